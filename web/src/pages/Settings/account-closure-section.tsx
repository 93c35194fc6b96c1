// Filled in by its own change (issue 15); renders nothing until then.
export function AccountClosureSection() {
  return null;
}
