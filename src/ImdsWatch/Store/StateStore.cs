using Microsoft.Data.Sqlite;

namespace ImdsWatch.Store;

/// <summary>
/// Embedded state in one SQLite file: the baseline (who reached the metadata service, how often, when),
/// stored alerts with acknowledgements, read checkpoints of the scheduled runner, and session records for
/// investigations. Default location: $XDG_STATE_HOME/imdswatch/state.db (~/.local/state/imdswatch/state.db).
/// </summary>
public sealed class StateStore : IDisposable
{
    private readonly SqliteConnection _db;

    public string Path { get; }

    private StateStore(string path)
    {
        Path = path;
        _db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ToString());
        _db.Open();
        Execute("PRAGMA journal_mode=WAL; PRAGMA busy_timeout=5000;");
        Migrate();
    }

    public static string DefaultPath()
    {
        var state = Environment.GetEnvironmentVariable("XDG_STATE_HOME");
        if (string.IsNullOrEmpty(state))
            state = System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state");
        return System.IO.Path.Combine(state, "imdswatch", "state.db");
    }

    /// <summary>A state database that must exist already (commands that only read it never create an empty one).</summary>
    public static StateStore OpenExisting(string path)
    {
        if (!File.Exists(path))
            throw new InvalidDataException($"{path}: no state database there (it is made by run, baseline learn or scan --state; give --state to read another)");
        return Open(path);
    }

    public static StateStore Open(string? path = null)
    {
        path ??= DefaultPath();
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (dir is not null && !OperatingSystem.IsWindows())
            CreatePrivate(dir, path);
        else if (dir is not null)
            Directory.CreateDirectory(dir);
        try
        {
            return new StateStore(path);
        }
        catch (SqliteException e)
        {
            throw new InvalidDataException($"{path}: cannot open the state database: {e.Message}", e);
        }
    }

    /// <summary>
    /// The state holds command lines and alerts: a new folder is the owner's alone (0700), and so is a new database
    /// (0600; SQLite gives its -wal and -shm files the database's mode). Existing ones keep theirs.
    /// </summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static void CreatePrivate(string dir, string path)
    {
        if (!Directory.Exists(dir))
            Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (!File.Exists(path))
            new FileStream(path, new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite }).Dispose();
    }

    private void Migrate()
    {
        Execute("""
            CREATE TABLE IF NOT EXISTS observations(
                host TEXT NOT NULL, kind TEXT NOT NULL, subject TEXT NOT NULL, label TEXT, access TEXT NOT NULL,
                count INTEGER NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
                PRIMARY KEY(host, kind, subject, access));
            CREATE TABLE IF NOT EXISTS hosts(host TEXT PRIMARY KEY, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS alerts(
                id TEXT PRIMARY KEY, time INTEGER NOT NULL, host TEXT, alert_type TEXT NOT NULL, severity TEXT NOT NULL,
                risk INTEGER NOT NULL, summary TEXT NOT NULL, json TEXT NOT NULL, raised_at INTEGER NOT NULL,
                acked_at INTEGER, ack_note TEXT);
            CREATE INDEX IF NOT EXISTS alerts_time ON alerts(time);
            CREATE TABLE IF NOT EXISTS acks(id TEXT NOT NULL, at INTEGER NOT NULL, who TEXT, note TEXT);
            CREATE INDEX IF NOT EXISTS acks_id ON acks(id);
            CREATE TABLE IF NOT EXISTS checkpoints(
                path TEXT NOT NULL, inode INTEGER NOT NULL, offset INTEGER NOT NULL, line INTEGER NOT NULL, record_time INTEGER NOT NULL, saved_at INTEGER NOT NULL,
                PRIMARY KEY(path, inode, offset));
            CREATE TABLE IF NOT EXISTS sessions(
                host TEXT NOT NULL, time INTEGER NOT NULL, kind TEXT NOT NULL, account TEXT, uid INTEGER, auid INTEGER,
                address TEXT, terminal TEXT, exe TEXT, command TEXT, result TEXT, file TEXT NOT NULL, line INTEGER NOT NULL,
                PRIMARY KEY(host, time, kind, file, line));
            """);
    }

    public SqliteTransaction Begin() => _db.BeginTransaction();

    public SqliteCommand Command(string sql, params (string Name, object? Value)[] parameters)
    {
        var c = _db.CreateCommand();
        c.CommandText = sql;
        foreach (var (name, value) in parameters)
            c.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return c;
    }

    public int Execute(string sql, params (string Name, object? Value)[] parameters)
    {
        using var c = Command(sql, parameters);
        return c.ExecuteNonQuery();
    }

    public List<T> Query<T>(string sql, Func<SqliteDataReader, T> read, params (string Name, object? Value)[] parameters)
    {
        using var c = Command(sql, parameters);
        using var r = c.ExecuteReader();
        var list = new List<T>();
        while (r.Read())
            list.Add(read(r));
        return list;
    }

    public void Dispose() => _db.Dispose();
}
