import { useEffect, useState } from "react";
import type { ExecutionDetail } from "../api";

type Artifact = ExecutionDetail["artifacts"][number];

/** The first part of a text log shown in place; the whole file is a link away. */
const LOG_PREVIEW_BYTES = 64 * 1024;

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * An execution's files, shown in place where a browser can show them safely: screenshots as
 * images, videos in a player (the server answers Range, so seeking works), text logs as text;
 * traces and everything else as downloads. URLs are the signed ones execution.get hands out,
 * since <img> and <video> cannot send the bearer token.
 */
export function Artifacts({ artifacts }: { artifacts: Artifact[] }) {
  if (artifacts.length === 0) return null;
  return (
    <section aria-labelledby="artifacts-title" className="artifacts">
      <h2 id="artifacts-title">Artifacts</h2>
      <ul>
        {artifacts.map((artifact) => (
          <li key={artifact.id} className={`artifact artifact-${artifact.kind}`}>
            <ArtifactView artifact={artifact} />
            <p className="artifact-caption">
              <a href={artifact.url} download={artifact.name}>
                {artifact.name}
              </a>{" "}
              <span className="muted">
                {artifact.kind}
                {artifact.stepNumber !== null ? `, step ${artifact.stepNumber}` : ""},{" "}
                {formatSize(artifact.size)}
              </span>
            </p>
          </li>
        ))}
      </ul>
    </section>
  );
}

function ArtifactView({ artifact }: { artifact: Artifact }) {
  const type = artifact.contentType.split(";")[0]?.trim() ?? "";
  if (["image/png", "image/jpeg", "image/webp", "image/gif"].includes(type)) {
    return <img src={artifact.url} alt={`${artifact.kind}: ${artifact.name}`} loading="lazy" />;
  }
  if (type === "video/webm" || type === "video/mp4") {
    return (
      // biome-ignore lint/a11y/useMediaCaption: recordings of a test run have no speech to caption
      <video controls preload="metadata" src={artifact.url} aria-label={artifact.name} />
    );
  }
  if (type === "text/plain") return <LogPreview artifact={artifact} />;
  return null;
}

function LogPreview({ artifact }: { artifact: Artifact }) {
  const [text, setText] = useState<string | null>(null);
  useEffect(() => {
    const controller = new AbortController();
    fetch(artifact.url, {
      headers: { range: `bytes=0-${LOG_PREVIEW_BYTES - 1}` },
      signal: controller.signal,
    })
      .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
      .then(setText, () => setText(null));
    return () => controller.abort();
  }, [artifact.url]);
  if (text === null) return null;
  const cut = artifact.size > LOG_PREVIEW_BYTES;
  return (
    <pre className="artifact-log">
      {text}
      {cut ? `\n… (${formatSize(artifact.size - LOG_PREVIEW_BYTES)} more in the file)` : ""}
    </pre>
  );
}
