using System.Buffers.Binary;
using System.Text;
using Ingest.Contracts;
using Npgsql;

namespace Ingest.Silo.Storage.Postgres.Sink;

/// <summary>
/// Writes a group's events with one binary <c>COPY</c>, formatting the rows itself into a reused
/// buffer: payloads are copied as they are (jsonb's binary form is a version byte and the text),
/// so an event costs a memcpy and no allocation. Used by one writer at a time.
/// </summary>
internal sealed class EventCopy
{
    private const string Sql = "COPY events (stream_id, seq, received_at, payload) FROM STDIN (FORMAT BINARY)";
    private const int BufferSize = 256 * 1024;
    private const short Fields = 4;
    private const byte JsonbVersion = 1;

    // Row layout: field count, then each field as its length and bytes; integers big-endian.
    private const int RowFixedBytes = 2 + 4 + 4 + 8 + 4 + 8 + 4 + 1;

    // PostgreSQL counts time in microseconds from 2000-01-01 UTC.
    private static readonly long PostgresEpochTicks = new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;

    private static readonly byte[] Header = [(byte)'P', (byte)'G', (byte)'C', (byte)'O', (byte)'P', (byte)'Y', (byte)'\n', 0xFF, (byte)'\r', (byte)'\n', 0, 0, 0, 0, 0, 0, 0, 0, 0];

    private readonly byte[] _buffer = new byte[BufferSize];
    private readonly byte[] _key = new byte[Encoding.UTF8.GetMaxByteCount(StreamKey.MaxLength)];
    private int _length;

    /// <summary>Copies every event of the group inside the connection's current transaction.</summary>
    /// <returns>The events written.</returns>
    public async Task<long> WriteAsync(NpgsqlConnection connection, List<PendingFlush> group, CancellationToken cancellationToken)
    {
        long rows = 0;
        _length = 0;
        var stream = await connection.BeginRawBinaryCopyAsync(Sql, cancellationToken).ConfigureAwait(false);
        try
        {
            Put(Header);
            foreach (var pending in group)
            {
                var flush = pending.Flush;
                var keyLength = Encoding.UTF8.GetBytes(flush.State.Key.Value, _key);
                var batches = flush.Batches;
                for (var b = 0; b < batches.Count; b++)
                {
                    var batch = batches[b];
                    var receivedAt = (batch.ReceivedAt.UtcTicks - PostgresEpochTicks) / TimeSpan.TicksPerMicrosecond;
                    var start = 0;
                    for (var i = 0; i < batch.Count; i++)
                    {
                        var end = batch.Ends[i];
                        var payloadLength = end - start;
                        var fixedLength = RowFixedBytes + keyLength;
                        if (_buffer.Length - _length < fixedLength + payloadLength)
                            await FlushAsync(stream, cancellationToken).ConfigureAwait(false);
                        PutRowStart(keyLength, batch.SeqOf(i), receivedAt, payloadLength);
                        if (payloadLength <= _buffer.Length - _length)
                        {
                            Put(batch.Payloads.AsSpan(start, payloadLength));
                        }
                        else
                        {
                            // An event bigger than the buffer goes straight from its batch.
                            await FlushAsync(stream, cancellationToken).ConfigureAwait(false);
                            await stream.WriteAsync(batch.Payloads.AsMemory(start, payloadLength), cancellationToken).ConfigureAwait(false);
                        }
                        start = end;
                    }
                    rows += batch.Count;
                }
            }
            if (_buffer.Length - _length < 2)
                await FlushAsync(stream, cancellationToken).ConfigureAwait(false);
            BinaryPrimitives.WriteInt16BigEndian(_buffer.AsSpan(_length), -1);
            _length += 2;
            await FlushAsync(stream, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            try
            {
                await stream.CancelAsync().ConfigureAwait(false);
            }
            catch (Exception)
            {
                // The connection is dropped after a failed group anyway; the first error is the one to report.
            }
            throw;
        }
        // Completing the COPY is where the server reports a row it refused.
        await stream.DisposeAsync().ConfigureAwait(false);
        return rows;
    }

    private void PutRowStart(int keyLength, long seq, long receivedAt, int payloadLength)
    {
        var span = _buffer.AsSpan(_length);
        BinaryPrimitives.WriteInt16BigEndian(span, Fields);
        BinaryPrimitives.WriteInt32BigEndian(span[2..], keyLength);
        _key.AsSpan(0, keyLength).CopyTo(span[6..]);
        span = span[(6 + keyLength)..];
        BinaryPrimitives.WriteInt32BigEndian(span, sizeof(long));
        BinaryPrimitives.WriteInt64BigEndian(span[4..], seq);
        BinaryPrimitives.WriteInt32BigEndian(span[12..], sizeof(long));
        BinaryPrimitives.WriteInt64BigEndian(span[16..], receivedAt);
        BinaryPrimitives.WriteInt32BigEndian(span[24..], payloadLength + 1);
        span[28] = JsonbVersion;
        _length += RowFixedBytes + keyLength;
    }

    private void Put(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(_buffer.AsSpan(_length));
        _length += bytes.Length;
    }

    private async ValueTask FlushAsync(NpgsqlRawCopyStream stream, CancellationToken cancellationToken)
    {
        if (_length == 0)
            return;
        await stream.WriteAsync(_buffer.AsMemory(0, _length), cancellationToken).ConfigureAwait(false);
        _length = 0;
    }
}
