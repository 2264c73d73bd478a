using System.Reflection;
using CharRnn.Engine.Runtime;
using CharRnn.ModelServer.Hosting;

// The standalone server (charrnn serve is the usual way to run it). Settings come from the
// "CharRnn" configuration section: --CharRnn:Listen=0.0.0.0:50051, CHARRNN__MODELSDIRECTORY=...
// Only as a process of its own: WebApplicationFactory runs these lines inside the test host.
if (Assembly.GetEntryAssembly() == typeof(Program).Assembly) MallocSettings.ReexecuteIfNeeded();
return StandaloneHost.Run(args, Console.Error);

/// <summary>Exposed for WebApplicationFactory in the tests.</summary>
public partial class Program;
