using ConnectApp.Persistence;
using Microsoft.EntityFrameworkCore;

namespace ConnectApp.Csv;

/// <summary>
/// Reads a stored import file front to back, one ~1 MiB chunk from PostgreSQL at a time, so the worker never
/// holds more than one chunk of the file. Read-only, forward-only.
/// </summary>
internal sealed class ImportFileStream(AppDbContext db, Guid jobId) : Stream
{
    private byte[] _chunk = [];
    private int _offset;
    private int _nextSeq;
    private bool _end;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (_offset == _chunk.Length && !_end)
        {
            var next = await Query(_nextSeq).FirstOrDefaultAsync(cancellationToken);
            Advance(next);
        }

        return Copy(buffer.Span);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count)
    {
        // Only for callers that insist on synchronous reads; CsvHelper's async path uses ReadAsync.
        while (_offset == _chunk.Length && !_end)
        {
            Advance(Query(_nextSeq).FirstOrDefault());
        }

        return Copy(buffer.AsSpan(offset, count));
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private IQueryable<byte[]> Query(int seq) =>
        db.Set<ImportFileChunk>().AsNoTracking().Where(c => c.JobId == jobId && c.Seq == seq).Select(c => c.Data);

    private void Advance(byte[]? next)
    {
        _chunk = next ?? [];
        _end = next is null;
        _offset = 0;
        _nextSeq++;
    }

    private int Copy(Span<byte> target)
    {
        var count = Math.Min(target.Length, _chunk.Length - _offset);
        _chunk.AsSpan(_offset, count).CopyTo(target);
        _offset += count;
        return count;
    }
}
