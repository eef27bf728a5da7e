using ImdsWatch.Events;

namespace ImdsWatch.Tests.Events;

public sealed class ShellWordsTests
{
    [Fact]
    public void Commands_split_on_operators_and_words_keep_their_quotes_content()
    {
        var commands = ShellWords.SplitCommands("A=1 curl -H 'Metadata: true' \"http://x/y\" | jq .; echo \"a;b\" && $(wget q)");
        Assert.Equal(4, commands.Count);
        Assert.Equal(["A=1", "curl", "-H", "Metadata: true", "http://x/y"], commands[0]);
        Assert.Equal(["jq", "."], commands[1]);
        Assert.Equal(["echo", "a;b"], commands[2]);
        Assert.Equal(["wget", "q"], commands[3]);
    }

    [Fact]
    public void Redirection_target_is_a_word_of_its_own()
    {
        Assert.Equal(["cat", "/dev/tcp/169.254.169.254/80"], Assert.Single(ShellWords.SplitCommands("cat </dev/tcp/169.254.169.254/80")));
    }
}
