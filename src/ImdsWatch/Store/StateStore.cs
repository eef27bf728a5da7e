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

    /// <summary>
    /// $XDG_STATE_HOME/imdswatch/state.db, else ~/.local/state/imdswatch/state.db; never a path relative to the
    /// working directory (the XDG spec says to ignore a relative XDG_STATE_HOME, and a relative or missing home
    /// would put the state wherever the command happens to run, under a folder someone else may own). Without an
    /// absolute home: /var/lib/imdswatch/state.db for root, else an error asking for --state.
    /// </summary>
    public static string DefaultPath() =>
        DefaultPathOrNull() ?? throw new InvalidDataException(
            "no place for the state database: XDG_STATE_HOME is not an absolute path and this user has no absolute home folder (HOME); give --state /absolute/path/state.db");

    /// <summary>The default path, or null when there is no safe one (for help text).</summary>
    public static string? DefaultPathOrNull()
    {
        var state = Environment.GetEnvironmentVariable("XDG_STATE_HOME");
        if (!string.IsNullOrEmpty(state) && System.IO.Path.IsPathFullyQualified(state))
            return System.IO.Path.Combine(state, "imdswatch", "state.db");
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile); // HOME, else the passwd entry
        if (!string.IsNullOrEmpty(home) && System.IO.Path.IsPathFullyQualified(home))
            return System.IO.Path.Combine(home, ".local", "state", "imdswatch", "state.db");
        return !OperatingSystem.IsWindows() && Environment.UserName == "root" ? "/var/lib/imdswatch/state.db" : null;
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
    /// The state holds command lines (IMDSv2 tokens among them) and alerts: a new folder is the owner's alone
    /// (0700), and so is the database (0600; SQLite gives its -wal and -shm files the database's mode; one an older
    /// imdswatch made readable by others is made private). A new database is never created through a symbolic
    /// link: O_EXCL does not follow one, and a linked folder is refused (someone else may have planted it).
    /// </summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static void CreatePrivate(string dir, string path)
    {
        const UnixFileMode ownerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        if (new FileInfo(path).LinkTarget is not null)
            throw new InvalidDataException($"{path}: is a symbolic link; refusing to open the state through it (give --state the real path)");
        if (!File.Exists(path))
        {
            if (!Directory.Exists(dir))
                Directory.CreateDirectory(dir, ownerOnly | UnixFileMode.UserExecute);
            else if (new DirectoryInfo(dir).LinkTarget is not null)
                throw new InvalidDataException($"{dir}: is a symbolic link; refusing to create the state database through it (give --state the real path)");
            try
            {
                new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = ownerOnly }).Dispose();
            }
            catch (IOException) when (File.Exists(path))
            {
                // made by a run that started at the same time
            }
            return;
        }
        foreach (var file in new[] { path, path + "-wal", path + "-shm" })
        {
            if (!File.Exists(file) || (File.GetUnixFileMode(file) & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) == 0)
                continue;
            try
            {
                File.SetUnixFileMode(file, ownerOnly);
            }
            catch (UnauthorizedAccessException)
            {
                // a shared database someone else owns keeps its mode (only the owner may change it)
            }
        }
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
            CREATE TABLE IF NOT EXISTS runs(path TEXT PRIMARY KEY, last_run INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS held_back(id TEXT PRIMARY KEY, time INTEGER NOT NULL, json TEXT NOT NULL, held_at INTEGER NOT NULL);
            """);
        // Checkpoints of an older imdswatch have no fingerprint: the inode alone finds their file.
        var columns = Query("SELECT name FROM pragma_table_info('checkpoints')", r => r.GetString(0));
        if (!columns.Contains("fingerprint"))
            Execute("ALTER TABLE checkpoints ADD COLUMN fingerprint TEXT; ALTER TABLE checkpoints ADD COLUMN fingerprint_length INTEGER;");
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
