using System.CommandLine;
using CharRnn.Engine.Text;

namespace CharRnn.Tui.Cli;

/// <summary>
/// --recipe NAME as charrnn train and charrnn lr-find take it: a known recipe's name (another is a usage error
/// listing them), and the architecture it stands for.
/// </summary>
internal static class RecipeOption
{
    /// <param name="description">The help, before the list of recipes.</param>
    /// <param name="settings">A recipe's settings as this command takes them, for the list (in the help and the error).</param>
    public static Option<string?> Create(string description, Func<TrainingRecipe, string> settings)
    {
        var recipe = new Option<string?>("--recipe") { Description = $"{description} Recipes: {TrainingRecipe.KnownAs(settings)}.", HelpName = "name" };
        recipe.Validators.Add(result =>
        {
            if (result.Tokens is not [{ Value: var value }] || TrainingRecipe.Named(value) != null) return;
            result.AddError($"--recipe '{value}' is not a recipe; known: {TrainingRecipe.KnownAs(settings)}.{ClosestName.Suggestion(value, TrainingRecipe.All.Select(r => r.Name))}");
        });
        return recipe;
    }

    /// <summary>The recipe given, or null (the validator has refused an unknown name before).</summary>
    public static TrainingRecipe? Chosen(ParseResult parse, Option<string?> option) =>
        TrainingRecipe.Named(parse.GetValue(option));

    /// <summary>
    /// The architecture given, else the recipe's, else stateful-lstm. A recipe's settings are tuned to its
    /// architecture (the lesson's SGDR run, to its LSTM): another one given with it is refused, not run so.
    /// </summary>
    /// <param name="flags">The recipe's settings as this command's flags, to give the other architecture instead.</param>
    public static string ArchitectureOf(string? given, TrainingRecipe? recipe, Func<TrainingRecipe, string> flags) => given switch
    {
        not null when recipe != null && given != recipe.Architecture =>
            throw new ArgumentException($"--recipe {recipe.Name} is for {recipe.Architecture}, not {given}; drop the architecture, or drop --recipe and give {given} the settings as flags: {flags(recipe)}."),
        _ => given ?? recipe?.Architecture ?? "stateful-lstm",
    };
}
