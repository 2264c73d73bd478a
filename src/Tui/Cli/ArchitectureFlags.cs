using System.CommandLine;
using System.Globalization;
using System.Numerics;
using CharRnn.Engine.Models;
using CharRnn.Engine.Text;

namespace CharRnn.Tui.Cli;

/// <summary>
/// The architecture, as an argument (`train stateful-gru`, as the REPL takes it) or as --arch, and every hyperparameter of
/// every architecture as a flag (--n-hidden 512): the chosen architecture's spec decides which are allowed and their range.
/// charrnn train and charrnn lr-find take them alike.
/// </summary>
internal sealed class ArchitectureFlags
{
    private static readonly string[] Names = Architectures.All.Select(a => a.Name).ToArray();

    public ArchitectureFlags(string defaultName)
    {
        Argument = new Argument<string?>("arch") { Description = $"Architecture (or give it as --arch); default {defaultName}.", Arity = ArgumentArity.ZeroOrOne, HelpName = "arch" }.RefusingFlags();
        Argument.Validators.Add(result =>
        {
            if (result.Tokens.Count == 0 || result.Tokens[0].Value is var value && (value.StartsWith('-') || Names.Contains(value))) return;
            result.AddError($"Argument '{value}' not recognized. Must be one of: {string.Join(", ", Names.Select(n => $"'{n}'"))}.{LessonNames.ArchitectureHint(value, Names)}");
        });
        Arch = new Option<string?>("--arch") { Description = $"Architecture: {string.Join(", ", Names)} (default: {defaultName}).", HelpName = "arch" };
        Arch.AcceptOnlyFromAmong(Names);
        // One option per distinct hyperparameter name across all architectures.
        HyperParameters = Architectures.All.SelectMany(a => a.Parameters)
            .GroupBy(p => p.Name).Select(g => g.First())
            .ToDictionary(p => p.Name, p => new Option<string?>(p.Flag)
            {
                Description = $"{p.Doc} (architectures that have it: {HoldersOf(p.Name)})",
                // A yes/no flag on its own means yes: --identity-init, or --identity-init false.
                Arity = p.Type == HyperParameterType.Bool ? ArgumentArity.ZeroOrOne : ArgumentArity.ExactlyOne,
            });
    }

    public Argument<string?> Argument { get; }
    public Option<string?> Arch { get; }
    public IReadOnlyDictionary<string, Option<string?>> HyperParameters { get; }

    /// <summary>The architecture given as the argument or as --arch (two that differ are refused); null if neither is.</summary>
    public string? Given(ParseResult parse)
    {
        var (argument, option) = (parse.GetValue(Argument), parse.GetValue(Arch));
        if (argument != null && option != null && argument != option)
            throw new ArgumentException($"Two architectures given, '{argument}' and --arch '{option}'; give one.");
        return argument ?? option;
    }

    /// <summary>The hyperparameters given as flags, checked against <paramref name="architecture"/>'s specs, over its defaults.</summary>
    public HyperParameters Resolve(ParseResult parse, Architecture architecture) => architecture.Resolve(GivenValues(parse, architecture));

    /// <summary>The hyperparameters given as flags alone, each parsed by <paramref name="architecture"/>'s spec (train --init-from checks them against its source's).</summary>
    public Dictionary<string, double> GivenValues(ParseResult parse, Architecture architecture)
    {
        var given = new Dictionary<string, double>();
        foreach (var (name, option) in HyperParameters)
        {
            if (parse.GetResult(option) is null) continue;
            var value = parse.GetValue(option) ?? "true";
            var spec = architecture.Parameters.FirstOrDefault(p => p.Name == name)
                ?? throw new ArgumentException($"{option.Name} is not a hyperparameter of {architecture.Name}; it has: {string.Join(" ", architecture.Parameters.Select(p => p.Flag))}.");
            given[name] = Parse(option.Name, value, spec);
        }
        return given;
    }

    /// <summary>A hyperparameter flag's value, refused as a number option's is (NumberOptions), in its spec's range; a yes/no as the spec reads it.</summary>
    private static double Parse(string flag, string value, HyperParameterSpec spec)
    {
        var text = value.Trim();
        if (spec.Type == HyperParameterType.Bool) return spec.Parse(text);
        if (spec.Type == HyperParameterType.Int)
            return BigInteger.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var whole)
                ? whole >= new BigInteger(spec.Min) && whole <= new BigInteger(spec.Max) ? (double)whole : throw new ArgumentException(NumberOptions.NotAllowed(flag, text, spec.Range))
                : throw new ArgumentException(NumberOptions.NotAWholeNumber(flag, text, spec.Range));
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var real) || !double.IsFinite(real))
            throw new ArgumentException(NumberOptions.NotANumber(flag, text, spec.Range));
        return real >= spec.Min && real <= spec.Max ? real : throw new ArgumentException(NumberOptions.NotAllowed(flag, text, spec.Range));
    }

    private static string HoldersOf(string name) =>
        string.Join(", ", Architectures.All.Where(a => a.Parameters.Any(p => p.Name == name)).Select(a => a.Name));
}
