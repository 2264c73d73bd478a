using CharRnn.Tui.Views;
using Terminal.Gui.Configuration;
using Terminal.Gui.Drawing;
using Xunit;
using Attribute = Terminal.Gui.Drawing.Attribute;
using Color = Terminal.Gui.Drawing.Color;

namespace CharRnn.Tui.Tests;

/// <summary>SixteenColorFields: in 16 colours every scheme's fields read (Terminal.Gui's own Base fields drew 97 on 47).</summary>
public class SixteenColorFieldsTests
{
    [Fact]
    public void Every_schemes_fields_read_in_16_colours_and_a_scheme_whose_fields_read_is_kept()
    {
        var schemes = SchemeManager.GetSchemesForCurrentTheme();
        Assert.False(SixteenColorFields.Legible(schemes["Base"]!.Editable)); // Terminal.Gui's own, the reason for this
        var readable = SixteenColorFields.Readable(schemes);
        Assert.Equal(schemes.Keys.Order(), readable.Keys.Order());
        foreach (var (name, scheme) in readable)
        {
            Assert.True(SixteenColorFields.Legible(scheme!.Editable), $"{name}'s Editable {scheme.Editable}");
            Assert.True(SixteenColorFields.Legible(scheme.ReadOnly), $"{name}'s ReadOnly {scheme.ReadOnly}");
            Assert.Equal(scheme.Normal, schemes[name]!.Normal);
            if (SixteenColorFields.Legible(schemes[name]!.Editable) && SixteenColorFields.Legible(schemes[name]!.ReadOnly))
                Assert.Same(schemes[name], scheme);
        }
        Assert.Equal(new Attribute(Color.Black, Color.Gray), readable["Base"]!.Editable);
    }

    [Theory]
    [InlineData(ColorName16.White, ColorName16.Gray, false)] // 97 on 47
    [InlineData(ColorName16.Gray, ColorName16.Gray, false)]
    [InlineData(ColorName16.Black, ColorName16.Gray, true)]
    [InlineData(ColorName16.DarkGray, ColorName16.Gray, true)]
    [InlineData(ColorName16.BrightRed, ColorName16.Black, true)]
    [InlineData(ColorName16.BrightCyan, ColorName16.DarkGray, true)]
    [InlineData(ColorName16.Blue, ColorName16.Black, false)]
    public void Legible_is_a_contrast_of_3_or_more_in_xterms_palette(ColorName16 foreground, ColorName16 background, bool legible) =>
        Assert.Equal(legible, SixteenColorFields.Legible(new Attribute(new Color(foreground), new Color(background))));
}
