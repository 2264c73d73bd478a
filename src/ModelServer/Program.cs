using CharRnn.ModelServer.Hosting;

// The standalone server (charrnn serve is the usual way to run it). Settings come from the
// "CharRnn" configuration section: --CharRnn:Listen=0.0.0.0:50051, CHARRNN__MODELSDIRECTORY=...
var app = ServerHost.Build(args);
app.Run();

/// <summary>Exposed for WebApplicationFactory in the tests.</summary>
public partial class Program;
