import { AccountClosureSection } from "./account-closure-section";
import { DataExportsSection } from "./data-exports-section";
import { DataRetentionSection } from "./data-retention-section";

/** Settings → Data: exports and their schedules, retention, and closing the account. */
export function DataTab() {
  return (
    <>
      <DataExportsSection />
      <DataRetentionSection />
      <AccountClosureSection />
    </>
  );
}
