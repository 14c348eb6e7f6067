/**
 * Every text of the opt-in pages. One file per language implements it; a language that misses a
 * key fails the type check and the dictionary test.
 */
export interface Dictionary {
  /** The language's own name, e.g. "Deutsch". */
  languageName: string;
  /** Writing direction of the page. */
  dir: "ltr" | "rtl";
  /** Labels the masked address the link was sent to. */
  recipientLabel: string;
  /** Shown with the organization's name, e.g. "Sent on behalf of Acme". */
  onBehalfOf: (organization: string) => string;
  privacyPolicy: string;
  continue: string;

  confirmTitle: string;
  confirmIntro: (topic: string) => string;
  confirmButton: string;
  confirmNote: string;

  successTitle: string;
  successBody: (topic: string) => string;

  alreadyConfirmedTitle: string;
  alreadyConfirmedBody: (topic: string) => string;

  withdrawnTitle: string;
  withdrawnBody: (topic: string) => string;

  expiredTitle: string;
  expiredBody: string;
  expiredNextSteps: string;

  invalidTitle: string;
  invalidBody: string;

  /** A link's form POST with a body over the limit (no browser sends one). */
  tooLargeTitle: string;
  tooLargeBody: string;

  /** A public page refused by the per-address rate limit; `seconds` until it may be tried again. */
  tooManyRequestsTitle: string;
  tooManyRequestsBody: (seconds: number) => string;

  optOutTitle: string;
  optOutIntro: (topic: string) => string;
  optOutButton: string;

  optOutSuccessTitle: string;
  optOutSuccessBody: (topic: string) => string;

  /** The preference page: every topic of the person, changed with one form. */
  preferencesTitle: string;
  preferencesIntro: string;
  preferencesLegend: string;
  preferencesNoTopics: string;
  preferencesSave: string;
  preferencesUnsubscribeAll: string;
  preferencesSaved: string;
  /** Shown when the browser sent Global Privacy Control (Sec-GPC: 1). */
  preferencesGpcSeen: string;
  /** A topic's line when Global Privacy Control opts out of it. */
  preferencesGpcTopic: string;
  preferencesDownload: string;
  preferencesDownloadNote: string;
  /** A topic's current state, by the rules of state. */
  statusGranted: string;
  statusPending: string;
  statusWithdrawn: string;
  statusExpired: string;
  statusNone: string;
}
