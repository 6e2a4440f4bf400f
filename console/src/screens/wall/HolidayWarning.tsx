// The banner shown while the holiday calendar does not cover the coming year.
//
// HOOK: the warning text comes from HolidayService.GetHolidayCalendar (its response carries
// it); until that RPC is in the API, `useHolidayWarning` has nothing to read and the
// banner stays hidden. Wiring it is the one change needed here.
import { Banner } from "../../components/Banner";
import { useT } from "../../i18n";

/** The calendar's warning for the coming year, if any. */
export function useHolidayWarning(): string | undefined {
  return undefined; // HOOK: GetHolidayCalendar's warning text
}

export function HolidayWarning({ warning }: { warning?: string }) {
  const t = useT();
  if (!warning) return null;
  return (
    <Banner tone="warn" testid="holiday-warning">
      <strong>{t("holiday.warning")}</strong> · {warning}
    </Banner>
  );
}
