using System.CommandLine;
using CharRnn.Engine.Models;
using CharRnn.Engine.Text;
using CharRnn.Engine.Training;

namespace CharRnn.Tui.Cli;

/// <summary>charrnn archs: every architecture with its hyperparameters, defaults, ranges and docs.</summary>
public static class ArchsCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print the architectures, each with its hyperparameters and training options, as a JSON array instead of a table." };
        var command = new Command("archs", "List the architectures and their hyperparameters.") { json };
        command.SetAction(parse =>
        {
            if (parse.GetValue(json))
            {
                Console.WriteLine(ScriptJson.Serialize(Architectures.All.Select(ModelJson.Architecture)));
                return 0;
            }
            foreach (var arch in Architectures.All)
            {
                Console.WriteLine($"{arch.Name,-18} {arch.Summary}{LessonNames.ClassNote(arch.Name)}");
                foreach (var p in arch.Parameters)
                    Console.WriteLine($"    {p.Flag,-16} default {p.Format(p.Default),-6} {p.Range}. {p.Doc}");
                // Each architecture's own lr and wd (the LSTM's are not the others'), so they are listed with it.
                foreach (var p in TrainingOptions.Specs(arch).Where(p => p.Name is "lr" or "wd"))
                    Console.WriteLine($"    {p.Flag,-16} default {p.Format(p.Default),-6} {p.Doc}");
                foreach (var recipe in TrainingRecipe.All.Where(r => r.Architecture == arch.Name))
                    Console.WriteLine($"    {"--recipe " + recipe.Name,-16} {recipe.Command}");
                Console.WriteLine();
            }
            Console.WriteLine("Training options for every architecture (--lr and --wd: each architecture's, above):");
            foreach (var p in TrainingOptions.Specs().Where(p => p.Name is not ("lr" or "wd")))
                Console.WriteLine($"    {p.Flag,-16} default {p.Format(p.Default),-6} {p.Doc}");
            Console.WriteLine($"    {"--optimizer",-16} adam or adamw");
            Console.WriteLine($"    {"--schedule",-16} {LearningRateSchedule.Help}");
            Console.WriteLine($"    {"--time-budget",-16} stop after this long, e.g. 10m");
            return 0;
        });
        return command;
    }
}
