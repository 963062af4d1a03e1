import { useRef, useState } from 'preact/hooks';
import { href, Banner, formatBytes, Progress } from '../ui.js';
import { uploadFile, type UploadStatus } from '../upload.js';

const seconds = (s: number | undefined) =>
  s === undefined ? '—' : s < 60 ? `${Math.ceil(s)} s` : `${Math.floor(s / 60)} min ${Math.ceil(s % 60)} s`;

/** "Create binary": target, file (picker or drop), then hash, create, upload, verify on one form. */
export function CreateBinary({ versionPrn, onChange }: { versionPrn: string; onChange: () => void }) {
  const [target, setTarget] = useState('');
  const [file, setFile] = useState<File | undefined>();
  const [status, setStatus] = useState<UploadStatus | undefined>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [dragging, setDragging] = useState(false);
  const abort = useRef<AbortController | undefined>(undefined);

  const start = async (event: Event) => {
    event.preventDefault();
    if (!file || !target.trim()) return setError(new Error('Give a target and pick a file.'));
    setError(undefined);
    setBusy(true);
    abort.current = new AbortController();
    try {
      await uploadFile({
        file,
        versionPrn,
        target: target.trim(),
        onStatus: setStatus,
        signal: abort.current.signal,
      });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
      onChange();
    }
  };

  return (
    <form class="card" aria-labelledby="create-title" onSubmit={(event) => void start(event)}>
      <h2 id="create-title">Create binary</h2>
      <p class="hint">
        An upload cut short (tab closed, network lost) resumes: pick the same file with the same target again,
        and the parts the registry already holds are skipped.
      </p>
      <div class="field">
        <label for="target">Target</label>
        <input
          id="target"
          value={target}
          onInput={(e) => setTarget(e.currentTarget.value)}
          required
          disabled={busy}
        />
      </div>
      <div
        class={`drop ${dragging ? 'dragging' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={(e) => {
          e.preventDefault();
          setDragging(false);
          const dropped = e.dataTransfer?.files[0];
          if (dropped) setFile(dropped);
        }}
      >
        <label for="file">File</label>
        <input id="file" type="file" disabled={busy} onChange={(e) => setFile(e.currentTarget.files?.[0])} />
        <span class="hint">or drop a file here</span>
        {file && (
          <span>
            {file.name}, {formatBytes(file.size)}
          </span>
        )}
      </div>
      <button type="submit" disabled={busy}>
        {busy ? 'Uploading…' : 'Create and upload'}
      </button>
      <Banner error={error} />
      {status && (
        <div class="upload-status" aria-live="polite">
          <div>
            Hashing: {formatBytes(status.hashedBytes)} of {formatBytes(status.totalBytes)}
            {status.hashMBps !== undefined && ` (${status.hashMBps.toFixed(0)} MB/s)`}
          </div>
          <Progress label="Hashing" value={status.hashedBytes} max={status.totalBytes} />
          <div>
            Upload: {formatBytes(status.sentBytes + status.skippedBytes)} of {formatBytes(status.totalBytes)}{' '}
            — {status.partsSent} parts sent, {status.partsSkipped} already held, of {status.partsTotal} —{' '}
            {(status.bytesPerSecond / 1e6).toFixed(1)} MB/s, {seconds(status.secondsLeft)} left
          </div>
          <Progress label="Upload" value={status.sentBytes + status.skippedBytes} max={status.totalBytes} />
          <div class="phase" data-phase={status.phase}>
            {status.phase === 'verifying' && 'The registry is checking the content…'}
            {status.phase === 'done' && 'Done: the registry verified the content.'}
            {status.binaryPrn && (
              <>
                {' '}
                <a href={href(`/binaries/${status.binaryPrn}`)}>Open the binary</a>
              </>
            )}
          </div>
        </div>
      )}
    </form>
  );
}
