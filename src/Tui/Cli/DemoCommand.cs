using System.CommandLine;
using CharRnn.Engine.Models;
using CharRnn.Engine.Runtime;
using CharRnn.Engine.Sampling;
using CharRnn.Engine.Text;
using CharRnn.Engine.Training;

namespace CharRnn.Tui.Cli;

/// <summary>
/// charrnn demo: the lesson in a minute. Trains a stateful GRU on lowercased Nietzsche for a
/// time budget, then streams 400 characters continuing "for thos".
/// </summary>
public static class DemoCommand
{
    public static Command Create()
    {
        var budget = new Option<string>("--time-budget") { Description = "How long to train.", DefaultValueFactory = _ => "60s" };
        var corpus = CommonOptions.Corpus();
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var command = new Command("demo", "Train a small model for about a minute and print text it generates.") { budget, corpus, device, threads };
        command.SetAction(parse =>
        {
            var timeBudget = Durations.Parse(parse.GetValue(budget)!, budget.Name); // first: a typo costs no libtorch load or corpus
            using var signals = AsyncSignalMask.BlockOnThisThread(); // this thread runs libtorch: Ctrl+C must land on another (see AsyncSignalMask)
            var torchDevice = TorchRuntime.Initialize(parse.GetValue(device)!, parse.GetValue(threads));
            var text = new CorpusResolver().Resolve(parse.GetValue(corpus));
            Trainer.CheckNoNul(text); // before any line that says it trains, as the Trainer would refuse it only after them
            var architecture = Architectures.Get("stateful-gru");
            var hyperParameters = architecture.Resolve(new Dictionary<string, double> { ["bptt"] = 32, ["n_hidden"] = 256 });
            var options = new TrainingOptions
            {
                Epochs = 100,
                TimeBudget = timeBudget,
                Lowercase = true,
                LearningRate = LayerGroupValues.All(3e-3),
                SampleChars = 120,
            };
            // Made before the line that says it trains, so that Ctrl+C from then on stops the training, not the process.
            using var console = new TrainingConsole(Console.Out, live: !Console.IsOutputRedirected, saves: false);
            Console.WriteLine($"Training {architecture.Name} ({TrainingSettingsLine.HyperParameters(hyperParameters)}) on {text.Name} ({text.CodePoints:N0} chars, lowercased) for {Durations.Format(options.TimeBudget!.Value)} on {TorchRuntime.Describe(torchDevice)}.");
            using var trainer = Trainer.Create(architecture, hyperParameters, options, text, torchDevice, directory: null);
            console.Attach(trainer);
            var outcome = trainer.Run(console.Stopping);
            console.Report(outcome);
            console.Dispose(); // Ctrl+C stopped the training; after it (validation, generation) Ctrl+C ends the demo as usual
            if (outcome.Kind == TrainingOutcomeKind.Failed) return 1; // a diverged model has nothing to show
            var (validLoss, accuracy) = trainer.CurrentValidation ?? trainer.Validate(); // a run ended by its time budget measured it already
            Console.WriteLine($"validation loss {validLoss:F4} nats/char, accuracy {accuracy:P1}\n");

            using var session = new GenerationSession(trainer.Model, trainer.Vocabulary, new SamplingSettings(Temperature: 0.7, Seed: 1));
            trainer.Model.eval();
            const string prime = "for thos";
            session.Feed(prime);
            Console.Write(prime);
            foreach (var c in session.Generate(400))
            {
                Console.Write(c.Text);
                Console.Out.Flush();
            }
            Console.WriteLine();
            return 0;
        });
        return command;
    }
}
