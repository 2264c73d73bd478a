using CharRnn.Engine.Models;
using static CharRnn.Engine.Models.HyperParameterType;
using static TorchSharp.torch;

namespace CharRnn.Engine.Tests;

/// <summary>What the registry checks of a new entry, so that its mistakes show at the first build, not at a first training.</summary>
public class ArchitectureTests
{
    // charrnn archs, --help and the REPL's arch show this doc: a learner of the lesson looks there for its cs.
    [Fact]
    public void The_context_is_documented_as_the_lessons_cs() =>
        Assert.All(Architectures.All.SelectMany(a => a.Parameters).Where(p => p.Name == "context"), p => Assert.Contains("(the lesson's cs)", p.Doc));

    // The server refuses a job's architecture with this message: the lesson's class name gets this project's name.
    [Theory]
    [InlineData("CharSeqStatefulLSTM", "The lesson's CharSeqStatefulLSTM is stateful-lstm here.")]
    [InlineData("charrnn", "The lesson's CharRnn is rnn here.")]
    [InlineData("stateful-lsmt", "Did you mean 'stateful-lstm'?")]
    public void An_unknown_architecture_named_as_the_lesson_names_it_is_told_its_name_here(string given, string end) =>
        Assert.EndsWith($"Known: {string.Join(", ", Architectures.All.Select(a => a.Name))}. {end}",
            Assert.Throws<ArgumentException>(() => Architectures.Get(given)).Message);

    private static HyperParameterSpec Spec(string name) => new(name, name == "random_bptt" ? Bool : Int, 1, 0, 8, name);

    private static HyperParameterSpec[] Specs(params string[] names) => names.Select(Spec).ToArray();

    private static Architecture Entry(string name, DataLayout layout, HyperParameterSpec[] parameters, Func<CharModel> create, int? fixedWindow = null) =>
        new(name, "a test entry", layout, parameters, 1e-3, 0, (_, _, _) => create(), fixedWindow);

    [Theory]
    [InlineData(DataLayout.Stream, new[] { "bs", "n_fac", "n_hidden" }, "architecture 'x' (Stream) must declare bptt, random_bptt: training reads them")]
    [InlineData(DataLayout.Stream, new[] { "bs", "n_fac", "n_hidden", "bptt" }, "architecture 'x' (Stream) must declare random_bptt: ")]
    [InlineData(DataLayout.NextCharWindows, new[] { "n_fac", "n_hidden", "context" }, "architecture 'x' (NextCharWindows) must declare bs: ")]
    [InlineData(DataLayout.SequenceWindows, new[] { "bs", "n_fac", "n_hidden" }, "architecture 'x' (SequenceWindows) must declare context: ")]
    public void An_entry_without_the_hyperparameters_its_layout_trains_with_is_refused(DataLayout layout, string[] declared, string start)
    {
        var e = Assert.Throws<ArgumentException>(() => Entry("x", layout, Specs(declared), () => throw new InvalidOperationException()));
        Assert.Equal(start, e.Message[..Math.Min(start.Length, e.Message.Length)]);
        Assert.EndsWith("a windowed one without a fixed window: also context).", e.Message); // the whole rule, and no "(Parameter ...)" after it
    }

    [Fact]
    public void A_windowed_entry_with_a_fixed_window_needs_no_context()
    {
        var entry = Entry("x", DataLayout.NextCharWindows, Specs("bs", "n_fac", "n_hidden"), () => throw new InvalidOperationException(), fixedWindow: 3);
        Assert.Equal(3, entry.FixedWindowLength);
    }

    [Fact]
    public void A_model_that_registers_no_parameters_is_refused_when_built()
    {
        var entry = Entry("x", DataLayout.NextCharWindows, Specs("bs", "n_fac", "n_hidden", "context"), () => new OneLayerModel("x", register: false));
        var e = Assert.Throws<InvalidOperationException>(() => entry.Create(entry.Resolve(), vocabSize: 5));
        Assert.Equal("architecture 'x' built a model with no registered parameters; call RegisterComponents() in its constructor.", e.Message);
    }

    [Fact]
    public void A_model_built_under_another_name_than_its_entry_is_refused()
    {
        var entry = Entry("x", DataLayout.NextCharWindows, Specs("bs", "n_fac", "n_hidden", "context"), () => new OneLayerModel("y", register: true));
        var e = Assert.Throws<InvalidOperationException>(() => entry.Create(entry.Resolve(), vocabSize: 5));
        Assert.Equal("architecture 'x' built a model named 'y'; pass 'x', its registry name, to the base constructor.", e.Message);
    }

    [Fact]
    public void A_model_built_right_is_returned()
    {
        var entry = Entry("x", DataLayout.NextCharWindows, Specs("bs", "n_fac", "n_hidden", "context"), () => new OneLayerModel("x", register: true));
        using var model = entry.Create(entry.Resolve(), vocabSize: 5);
        Assert.Equal(10, model.ParameterCount);
    }

    /// <summary>The smallest windowed model, that can forget RegisterComponents().</summary>
    private sealed class OneLayerModel : WindowedCharModel
    {
        private readonly TorchSharp.Modules.Embedding e;

        public OneLayerModel(string name, bool register) : base(name, vocabSize: 5, context: 1)
        {
            e = nn.Embedding(5, 2);
            if (register) RegisterComponents();
        }

        protected override Tensor Predict(Tensor x) => e.forward(x[.., 0]);
    }
}
