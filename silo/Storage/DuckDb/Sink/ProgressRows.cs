using System.Text;
using Ingest.Contracts;
using Ingest.Grains;
using Ingest.Silo.Storage.DuckDb.Native;

namespace Ingest.Silo.Storage.DuckDb.Sink;

/// <summary>
/// One commit's stream states as rows of <c>stream_progress</c> (id, version, closed_at, events,
/// bytes, rejected, duplicates), written straight into DuckDB's output chunks. Reused from one
/// commit to the next by one thread.
/// </summary>
internal sealed unsafe class ProgressRows : IDuckDbChunkSource
{
    /// <summary>The columns of <c>stream_progress</c>, in its order.</summary>
    public static readonly (string Name, DuckDbType Type)[] Columns =
    [
        ("id", DuckDbType.Varchar), ("version", DuckDbType.BigInt), ("closed_at", DuckDbType.TimestampTz),
        ("events", DuckDbType.BigInt), ("bytes", DuckDbType.BigInt), ("rejected", DuckDbType.BigInt),
        ("duplicates", DuckDbType.BigInt),
    ];

    private readonly int _capacity = (int)NativeMethods.Helpers.VectorSize();
    private readonly List<StreamState> _states = [];
    private readonly byte[] _key = new byte[Encoding.UTF8.GetMaxByteCount(StreamKey.MaxLength)];
    private long _version;
    private int _next;

    /// <summary>The rows of <paramref name="states"/>, all under <paramref name="version"/>.</summary>
    /// <returns>How many rows they make.</returns>
    public int Start(Dictionary<StreamKey, (StreamState State, bool HasRow)>.ValueCollection states, long version)
    {
        _states.Clear();
        foreach (var (state, _) in states)
            _states.Add(state);
        _version = version;
        _next = 0;
        return _states.Count;
    }

    public int Fill(IntPtr chunk)
    {
        var ids = NativeMethods.DataChunk.Vector(chunk, 0);
        var versions = Column(chunk, 1);
        var closedAtVector = NativeMethods.DataChunk.Vector(chunk, 2);
        var closedAts = (long*)NativeMethods.Vector.Data(closedAtVector);
        NativeMethods.Vector.EnsureValidityWritable(closedAtVector);
        var closedAtValid = NativeMethods.Vector.Validity(closedAtVector);
        var events = Column(chunk, 3);
        var bytes = Column(chunk, 4);
        var rejected = Column(chunk, 5);
        var duplicates = Column(chunk, 6);
        var rows = 0;
        fixed (byte* key = _key)
        {
            for (; rows < _capacity && _next < _states.Count; rows++, _next++)
            {
                var state = _states[_next];
                var length = Encoding.UTF8.GetBytes(state.Key.Value, _key);
                NativeMethods.Vector.AssignStringElement(ids, (ulong)rows, key, (ulong)length);
                versions[rows] = _version;
                var bit = 1UL << (rows & 63);
                if (state.ClosedAt is { } closedAt)
                {
                    closedAts[rows] = DuckDbTimestamp.ToUnixMicros(closedAt);
                    closedAtValid[rows >> 6] |= bit;
                }
                else
                {
                    closedAtValid[rows >> 6] &= ~bit;
                }
                events[rows] = state.Events;
                bytes[rows] = state.Bytes;
                rejected[rows] = state.Rejected;
                duplicates[rows] = state.Duplicates;
            }
        }
        return rows;
    }

    /// <summary>Lets go of the commit's states.</summary>
    public void Clear() => _states.Clear();

    private static long* Column(IntPtr chunk, int column) => (long*)NativeMethods.Vector.Data(NativeMethods.DataChunk.Vector(chunk, (ulong)column));
}
