namespace CharRnn.ModelServer.Sessions;

/// <summary>
/// What a session does with fed text holding characters its model cannot read (the proto's UnknownChars):
/// refuse the text whole, or drop those characters and feed the rest (a service passing on what its users type).
/// </summary>
public enum UnknownCharPolicy { Refuse, Skip }
