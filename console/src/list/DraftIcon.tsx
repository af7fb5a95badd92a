/** The draft icon: a pencil on a page (decorative; its link carries the accessible name). */
export function DraftIcon() {
  return (
    <svg viewBox="0 0 20 20" width="18" height="18" aria-hidden="true" focusable="false">
      <path d="M4 2h8l4 4v12H4z" fill="none" stroke="currentColor" stroke-width="1.5" />
      <path d="M7 14l1-3 5-5 2 2-5 5z" fill="currentColor" />
    </svg>
  );
}
