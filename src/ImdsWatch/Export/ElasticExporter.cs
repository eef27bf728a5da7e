namespace ImdsWatch.Export;
internal static class ElasticExporter { public static IReadOnlyList<ExportFile> Export(ExportModel m) => []; }
