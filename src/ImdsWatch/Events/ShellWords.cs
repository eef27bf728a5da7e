using System.Text;

namespace ImdsWatch.Events;

/// <summary>
/// Splits a shell script (the argument of sh -c) into simple commands and their words: enough of POSIX
/// quoting to find which program each command runs, not a shell.
/// </summary>
public static class ShellWords
{
    public static List<List<string>> SplitCommands(string script)
    {
        var commands = new List<List<string>>();
        var words = new List<string>();
        var word = new StringBuilder();
        var inWord = false;
        var i = 0;

        void EndWord()
        {
            if (inWord)
                words.Add(word.ToString());
            word.Clear();
            inWord = false;
        }

        void EndCommand()
        {
            EndWord();
            if (words.Count > 0)
                commands.Add(words);
            words = [];
        }

        while (i < script.Length)
        {
            var c = script[i];
            switch (c)
            {
                case '\'':
                    {
                        var close = script.IndexOf('\'', i + 1);
                        if (close < 0) close = script.Length;
                        word.Append(script, i + 1, close - i - 1);
                        inWord = true;
                        i = close + 1;
                        continue;
                    }
                case '"':
                    {
                        var j = i + 1;
                        while (j < script.Length && script[j] != '"')
                        {
                            if (script[j] == '\\' && j + 1 < script.Length)
                                j++;
                            word.Append(script[j]);
                            j++;
                        }
                        inWord = true;
                        i = j + 1;
                        continue;
                    }
                case '\\' when i + 1 < script.Length:
                    word.Append(script[i + 1]);
                    inWord = true;
                    i += 2;
                    continue;
                case ' ' or '\t':
                    EndWord();
                    break;
                case ';' or '&' or '|' or '\n' or '\r' or '(' or ')' or '`':
                    EndCommand();
                    break;
                case '$' when i + 1 < script.Length && script[i + 1] == '(':
                    EndCommand();
                    i++;
                    break;
                case '<' or '>':
                    // A redirection target is a word of its own (it may be /dev/tcp/host/port).
                    EndWord();
                    break;
                default:
                    word.Append(c);
                    inWord = true;
                    break;
            }
            i++;
        }
        EndCommand();
        return commands;
    }
}
