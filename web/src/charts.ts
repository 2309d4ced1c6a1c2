/** What every chart of the page shares: large type for arm's length, ECharts' aria description on. */
export const FONT = 16;

export const base = {
  aria: { enabled: true },
  textStyle: { fontSize: FONT },
  tooltip: { trigger: 'axis', textStyle: { fontSize: FONT } },
  legend: { top: 0, textStyle: { fontSize: FONT } },
  grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
};

/** The same, with the aria description reading out a whole day of hours (ECharts stops at 10 values a series). */
export const dayBase = { ...base, aria: { enabled: true, label: { data: { maxCount: 24 } } } };
