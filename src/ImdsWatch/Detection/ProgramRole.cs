namespace ImdsWatch.Detection;

/// <summary>What kind of actor ran the command, which weighs on severity.</summary>
public enum ProgramRole
{
    Other,
    FetchTool,
    Shell,
    ShellOneLiner,
    Interpreter,
    InterpreterOneLiner,
    WebServer,
    MentionOnly,
}
