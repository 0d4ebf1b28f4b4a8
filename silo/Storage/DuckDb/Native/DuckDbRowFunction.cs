using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;

namespace Ingest.Silo.Storage.DuckDb.Native;

/// <summary>
/// A table function whose rows a managed <see cref="IDuckDbChunkSource"/> writes straight into
/// DuckDB's output chunks, so that <c>INSERT INTO t SELECT * FROM f(key)</c>, prepared once, loads
/// rows without an appender.
/// </summary>
/// <remarks>
/// DuckDB's appender copies every row into a collection of its own, then at each flush builds,
/// parses, binds, optimises and plans an INSERT over it: 12% of the sink writer's time at 385,000
/// WebSocket events/s went to that planning alone, and 6% to the copy (BENCHMARKS.md). A prepared
/// INSERT over this function does neither.
/// <para>
/// The function lives in the database's catalog, where any connection could call it. Its one
/// argument is a key drawn at random when it is registered; binding with any other fails, so only
/// statements prepared by its owner reach the rows. <see cref="Run"/> also checks that the
/// statement took every row it was given.
/// </para>
/// </remarks>
internal sealed unsafe class DuckDbRowFunction
{
    private static long _registered;

    private readonly (string Name, DuckDbLogicalTypeHandle Type)[] _columns;
    private IDuckDbChunkSource? _source;
    private Exception? _failure;

    private DuckDbRowFunction(string name, long key, (string Name, DuckDbLogicalTypeHandle Type)[] columns)
    {
        Name = name;
        Key = key;
        _columns = columns;
    }

    public string Name { get; }

    /// <summary>The argument a call must pass: <c>{Name}({Key})</c>.</summary>
    public long Key { get; }

    /// <summary>What a statement names in its FROM.</summary>
    public string Call => $"{Name}({Key.ToString(System.Globalization.CultureInfo.InvariantCulture)})";

    /// <summary>Registers a function returning <paramref name="columns"/>; the types are kept for as long as the database.</summary>
    /// <param name="prefix">The name; a number is added, so that several writers on one database never collide.</param>
    public static DuckDbRowFunction Register(DuckDbConnection connection, string prefix, (string Name, DuckDbLogicalTypeHandle Type)[] columns)
    {
        var function = new DuckDbRowFunction($"{prefix}_{Interlocked.Increment(ref _registered)}", Random.Shared.NextInt64(1, long.MaxValue), columns);
        var native = NativeMethods.TableFunctions.Create();
        try
        {
            NativeMethods.TableFunctions.SetName(native, function.Name);
            using (var keyType = NativeMethods.LogicalType.Create(DuckDbType.BigInt))
                NativeMethods.TableFunctions.AddParameter(native, keyType);
            // From here DuckDB owns the handle: it frees it when the function goes, registered or not.
            NativeMethods.TableFunctions.SetExtraInfo(native, GCHandle.ToIntPtr(GCHandle.Alloc(function)), &Release);
            NativeMethods.TableFunctions.SetBind(native, &Bind);
            NativeMethods.TableFunctions.SetInit(native, &Init);
            NativeMethods.TableFunctions.SetFunction(native, &Scan);
            if (NativeMethods.TableFunctions.Register(connection.Handle, native) != DuckDbState.Success)
                throw new DuckDbException($"DuckDB did not register the table function {function.Name}.");
        }
        finally
        {
            NativeMethods.TableFunctions.Destroy(ref native);
        }
        return function;
    }

    /// <summary>
    /// The column types of <paramref name="table"/> as DuckDB has them, checked against
    /// <paramref name="expected"/> (names for messages, types by id), so that a function returning
    /// them inserts into the table without a cast. The caller owns the types.
    /// </summary>
    /// <exception cref="DuckDbException">The table's columns are not the ones expected.</exception>
    public static (string Name, DuckDbLogicalTypeHandle Type)[] ColumnsOf(
        DuckDbConnection connection, string table, IReadOnlyList<(string Name, DuckDbType Type)> expected)
    {
        using var appender = connection.CreateAppender(table);
        if (appender.ColumnCount != expected.Count)
        {
            throw new DuckDbException(
                $"Table {table} has {appender.ColumnCount} columns; expected {string.Join(", ", expected.Select(column => column.Name))}.");
        }
        var columns = new (string Name, DuckDbLogicalTypeHandle Type)[expected.Count];
        for (var i = 0; i < columns.Length; i++)
        {
            var type = appender.ColumnType(i);
            var id = NativeMethods.LogicalType.TypeId(type);
            if (id != expected[i].Type)
            {
                type.Dispose();
                foreach (var (_, taken) in columns.Take(i))
                    taken.Dispose();
                throw new DuckDbException($"Column {i + 1} of table {table} is {id}; expected {expected[i].Type}.");
            }
            columns[i] = (expected[i].Name, type);
        }
        return columns;
    }

    /// <summary>
    /// Runs <paramref name="statement"/> (an INSERT from <see cref="Call"/>) with the rows of
    /// <paramref name="source"/>, and checks that it inserted <paramref name="rows"/>.
    /// </summary>
    public void Run(DuckDbPreparedStatement statement, IDuckDbChunkSource source, long rows)
    {
        _failure = null;
        Volatile.Write(ref _source, source);
        long inserted;
        try
        {
            using var result = statement.Execute();
            using var chunk = result.FetchChunk() ?? throw new DuckDbException($"DuckDB returned no count from the insert through {Name}.");
            inserted = new DuckDbColumn(chunk, 0).GetInt64(0);
        }
        catch (DuckDbException) when (_failure is not null)
        {
            ExceptionDispatchInfo.Throw(_failure);
            throw;
        }
        finally
        {
            Volatile.Write(ref _source, null);
        }
        if (inserted != rows)
            throw new DuckDbException($"The insert through {Name} took {inserted} rows of {rows}.");
    }

    private static DuckDbRowFunction From(IntPtr extraInfo) => (DuckDbRowFunction)GCHandle.FromIntPtr(extraInfo).Target!;

    // An exception must not leave a callback: it would cross DuckDB's C++ frames and end the process.
    [UnmanagedCallersOnly]
    private static void Bind(IntPtr info)
    {
        try
        {
            var function = From(NativeMethods.TableFunctions.BindExtraInfo(info));
            var value = NativeMethods.TableFunctions.BindParameter(info, 0);
            var key = NativeMethods.TableFunctions.ValueInt64(value);
            NativeMethods.TableFunctions.DestroyValue(ref value);
            if (key != function.Key)
            {
                NativeMethods.TableFunctions.SetBindError(info, $"{function.Name} is the event sink's own; it cannot be queried.");
                return;
            }
            foreach (var (name, type) in function._columns)
                NativeMethods.TableFunctions.AddResultColumn(info, name, type);
        }
        catch (Exception exception)
        {
            NativeMethods.TableFunctions.SetBindError(info, exception.Message);
        }
    }

    // One thread: the rows must reach the table in the order the source gives them.
    [UnmanagedCallersOnly]
    private static void Init(IntPtr info) => NativeMethods.TableFunctions.SetMaxThreads(info, 1);

    [UnmanagedCallersOnly]
    private static void Scan(IntPtr info, IntPtr output)
    {
        DuckDbRowFunction? function = null;
        try
        {
            function = From(NativeMethods.TableFunctions.FunctionExtraInfo(info));
            var rows = Volatile.Read(ref function._source) is { } source ? source.Fill(output) : 0;
            NativeMethods.DataChunk.SetSize(output, (ulong)rows);
        }
        catch (Exception exception)
        {
            if (function is not null)
                function._failure = exception;
            NativeMethods.TableFunctions.SetFunctionError(info, exception.Message);
        }
    }

    [UnmanagedCallersOnly]
    private static void Release(IntPtr extraInfo) => GCHandle.FromIntPtr(extraInfo).Free();
}
