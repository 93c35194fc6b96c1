import { FormAlert } from "./form-alert";

/** A deep link named an item that is not (or no longer) in this account: say so instead of nothing. */
export function LinkedItemMissing({ what }: { what: string }) {
  return (
    <FormAlert tone="info" testId="linked-item-missing">
      The {what} this link points to isn't in this account any more: it may have been deleted, or it belongs
      to another account (switch accounts at the top).
    </FormAlert>
  );
}
