using CharRnn.Tui.Cli;

// charrnn with a verb runs it headless; with none, the lesson's demo (the TUI arrives with the server).
return CharRnnCommandLine.Run(args, _ => CharRnnCommandLine.Run(["demo"]));
