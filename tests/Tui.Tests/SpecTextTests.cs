using CharRnn.Protos.V1;
using CharRnn.Tui.Client;

namespace CharRnn.Tui.Tests;

public sealed class SpecTextTests
{
    private static HyperParameterSpec Spec(HyperParameterSpec.Types.Type type, double min, double max) => new() { Type = type, Min = min, Max = max };

    [Fact]
    public void A_range_fits_the_forms_hint_column_with_a_large_bound_as_a_power_of_ten()
    {
        // max_steps: written out, 1000000000000 was cut to "0 to " in the form at 100 columns.
        Assert.Equal("0 to 1e12", SpecText.FormRange(Spec(HyperParameterSpec.Types.Type.Int, 0, 1e12)));
        Assert.Equal("0 to 1e6", SpecText.FormRange(Spec(HyperParameterSpec.Types.Type.Float, 0, 1e6))); // clip: was G4's 1E+06
        Assert.Equal("1 to 2048", SpecText.FormRange(Spec(HyperParameterSpec.Types.Type.Int, 1, 2048)));
        Assert.Equal("1 to 10000", SpecText.FormRange(Spec(HyperParameterSpec.Types.Type.Int, 1, 10000)));
        Assert.Equal("0 to 0.95", SpecText.FormRange(Spec(HyperParameterSpec.Types.Type.Float, 0, 0.95)));
        Assert.Equal("true or false", SpecText.FormRange(Spec(HyperParameterSpec.Types.Type.Bool, 0, 1)));
        Assert.True(SpecText.FormRange(Spec(HyperParameterSpec.Types.Type.Int, 0, 1e12)).Length <= 13); // the form's HintRoom
    }

    [Fact]
    public void A_range_outside_the_form_writes_every_bound_out_as_charrnn_trains_refusals_do()
    {
        // The REPL's arch showed max_steps 0 to 1e12 and clip 0 to 1e6 where charrnn train says "up to 1000000000000".
        Assert.Equal("0 to 1000000000000", SpecText.Range(Spec(HyperParameterSpec.Types.Type.Int, 0, 1e12)));
        Assert.Equal("0 to 1000000", SpecText.Range(Spec(HyperParameterSpec.Types.Type.Float, 0, 1e6)));
        Assert.Equal("1 to 1000000000", SpecText.Range(Spec(HyperParameterSpec.Types.Type.Int, 1, 1e9)));
        Assert.Equal("0 to 2147483647", SpecText.Range(Spec(HyperParameterSpec.Types.Type.Int, 0, int.MaxValue)));
        Assert.Equal("0 to 0.95", SpecText.Range(Spec(HyperParameterSpec.Types.Type.Float, 0, 0.95)));
    }

    [Fact]
    public void A_large_whole_bound_that_no_short_power_of_ten_gives_exactly_is_written_out()
    {
        // seed's int.MaxValue read "0 to 2.147484e9" in `arch`: a bound above the real one (2147484000 is refused).
        Assert.Equal("0 to 2147483647", SpecText.FormRange(Spec(HyperParameterSpec.Types.Type.Int, 0, int.MaxValue)));
        Assert.Equal("1 to 1e9", SpecText.FormRange(Spec(HyperParameterSpec.Types.Type.Int, 1, 1e9))); // min_freq: exact, stays short
        Assert.Equal("0 to 1.5e6", SpecText.FormRange(Spec(HyperParameterSpec.Types.Type.Int, 0, 1_500_000)));
    }
}
