using ImdsWatch.Detection;
using ImdsWatch.Indicators;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace ImdsWatch.Config;

/// <summary>
/// Every YAML document imdswatch reads, described at compile time: deserializing them needs no reflection or
/// emitted code, which keeps start-up short (the reflection-based deserializer cost ~100 ms on every run).
/// </summary>
[YamlStaticContext]
[YamlSerializable(typeof(IndicatorCatalog.CatalogDocument))]
[YamlSerializable(typeof(IndicatorCatalog.EndpointDoc))]
[YamlSerializable(typeof(IndicatorCatalog.PathDoc))]
[YamlSerializable(typeof(IndicatorCatalog.HeaderDoc))]
[YamlSerializable(typeof(ProgramCatalog.Doc))]
[YamlSerializable(typeof(ProgramCatalog.InterpreterDoc))]
[YamlSerializable(typeof(ProgramCatalog.WrapperDoc))]
[YamlSerializable(typeof(AgentAllowList.Doc))]
[YamlSerializable(typeof(AgentAllowList.AgentDoc))]
[YamlSerializable(typeof(ImdsWatch.Alerts.RiskModel.RiskDocument))]
[YamlSerializable(typeof(ImdsWatch.Alerts.RiskModel.SeverityDoc))]
[YamlSerializable(typeof(ImdsWatch.Alerts.RiskModel.PointDoc))]
[YamlSerializable(typeof(ImdsWatchConfig))]
[YamlSerializable(typeof(ImdsWatchConfig.AgentsSection))]
[YamlSerializable(typeof(ImdsWatchConfig.AgentEntry))]
[YamlSerializable(typeof(ImdsWatchConfig.IndicatorsSection))]
[YamlSerializable(typeof(ImdsWatchConfig.CloudTrailSection))]
[YamlSerializable(typeof(ImdsWatchConfig.AnomalySection))]
[YamlSerializable(typeof(ImdsWatchConfig.ProgramsSection))]
[YamlSerializable(typeof(ImdsWatchConfig.SinkEntry))]
[YamlSerializable(typeof(ImdsWatchConfig.AgentSection))]
public partial class YamlDocuments : StaticContext
{
    public static IDeserializer Deserializer() => new StaticDeserializerBuilder(new YamlDocuments())
        .WithNamingConvention(UnderscoredNamingConvention.Instance)
        .Build();

    public static ISerializer Serializer() => new StaticSerializerBuilder(new YamlDocuments())
        .WithNamingConvention(UnderscoredNamingConvention.Instance)
        .Build();
}
