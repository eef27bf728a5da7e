using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text;

namespace ImdsWatch.Tests.Support;

/// <summary>
/// Writes an object graph of plain document classes (settable properties of strings, numbers, booleans, lists,
/// string-keyed dictionaries and nested documents) as a C# object initializer that builds the same graph. Properties
/// still at the value a new instance has are left out.
/// </summary>
internal static class CSharpInitializer
{
    public static string Write(object document, int indent)
    {
        var text = new StringBuilder();
        WriteObject(text, document, indent);
        return text.ToString();
    }

    private static void WriteValue(StringBuilder text, object value, int indent)
    {
        switch (value)
        {
            case string s:
                text.Append(Literal(s));
                break;
            case bool b:
                text.Append(b ? "true" : "false");
                break;
            case int i:
                text.Append(i.ToString(CultureInfo.InvariantCulture));
                break;
            case IDictionary dictionary:
                WriteDictionary(text, dictionary, indent);
                break;
            case IList list:
                WriteList(text, list, indent);
                break;
            default:
                WriteObject(text, value, indent);
                break;
        }
    }

    private static void WriteObject(StringBuilder text, object value, int indent)
    {
        var type = value.GetType();
        var fresh = Activator.CreateInstance(type, nonPublic: true)
            ?? throw new InvalidOperationException($"{type} has no parameterless constructor");
        text.Append("new()\n").Append(Pad(indent)).Append("{\n");
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var current = property.GetValue(value);
            if (current is null || IsDefault(current, property.GetValue(fresh)))
                continue;
            text.Append(Pad(indent + 1)).Append(property.Name).Append(" = ");
            WriteValue(text, current, indent + 1);
            text.Append(",\n");
        }
        text.Append(Pad(indent)).Append('}');
    }

    private static void WriteList(StringBuilder text, IList list, int indent)
    {
        if (list.Count > 0 && list[0] is string)
        {
            // Lists of words on one line, as the YAML writes them.
            text.Append('[').AppendJoin(", ", list.Cast<string>().Select(Literal)).Append(']');
            return;
        }
        text.Append("[\n");
        foreach (var item in list)
        {
            text.Append(Pad(indent + 1));
            WriteValue(text, item!, indent + 1);
            text.Append(",\n");
        }
        text.Append(Pad(indent)).Append(']');
    }

    private static void WriteDictionary(StringBuilder text, IDictionary dictionary, int indent)
    {
        text.Append("new()\n").Append(Pad(indent)).Append("{\n");
        foreach (DictionaryEntry entry in dictionary)
        {
            text.Append(Pad(indent + 1)).Append('[').Append(Literal((string)entry.Key)).Append("] = ");
            WriteValue(text, entry.Value!, indent + 1);
            text.Append(",\n");
        }
        text.Append(Pad(indent)).Append('}');
    }

    private static bool IsDefault(object current, object? fresh) => current switch
    {
        ICollection collection => collection.Count == 0 && fresh is ICollection { Count: 0 },
        _ => current.Equals(fresh),
    };

    private static string Pad(int indent) => new(' ', indent * 4);

    /// <summary>A C# string literal: quotes, backslashes and control characters escaped.</summary>
    private static string Literal(string s)
    {
        var text = new StringBuilder("\"");
        foreach (var c in s)
        {
            text.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\t' => "\\t",
                '\r' => "\\r",
                _ when char.IsControl(c) => $"\\u{(int)c:x4}",
                _ => c.ToString(),
            });
        }
        return text.Append('"').ToString();
    }
}
