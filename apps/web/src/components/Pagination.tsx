export function Pagination(props: {
  skip: number;
  limit: number;
  total: number;
  onChange: (skip: number) => void;
  label: string;
}) {
  const { skip, limit, total, onChange } = props;
  const first = total === 0 ? 0 : skip + 1;
  const last = Math.min(skip + limit, total);
  return (
    <nav className="pagination" aria-label={props.label}>
      <button
        type="button"
        disabled={skip === 0}
        onClick={() => onChange(Math.max(0, skip - limit))}
      >
        ← Previous
      </button>
      <span aria-live="polite">
        {first}–{last} of {total}
      </span>
      <button type="button" disabled={last >= total} onClick={() => onChange(skip + limit)}>
        Next →
      </button>
    </nav>
  );
}
