/** A status or result as a colored label; the word is always there, so color is never the only cue. */
export function Badge({ value, kind }: { value: string | null; kind: "status" | "result" }) {
  if (!value) return <span className="muted">—</span>;
  return (
    <span className={`badge badge-${value}`} data-kind={kind}>
      {value}
    </span>
  );
}
