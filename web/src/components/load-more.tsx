/** The "Load more" button under a cursor-paged list (`usePagedList`); nothing when the list is whole. */
export function LoadMore({
  list,
}: {
  list: { hasMore: boolean; loadingMore: boolean; loadMore: () => void };
}) {
  if (!list.hasMore) return null;
  return (
    <div className="actions list-more">
      <button
        type="button"
        className="button button-secondary"
        onClick={list.loadMore}
        disabled={list.loadingMore}
        data-testid="load-more"
      >
        {list.loadingMore ? "Loading…" : "Load more"}
      </button>
    </div>
  );
}
