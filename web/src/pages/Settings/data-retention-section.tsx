// Filled in by its own change (issue 15); renders nothing until then.
export function DataRetentionSection() {
  return null;
}
