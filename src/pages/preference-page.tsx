import type { ConsentStatus } from "../consent/state";
import type { Dictionary } from "./i18n";

/** One topic of a preference page: its id (the form's value), what the page calls it and its state. */
export interface PageTopic {
  topic: string;
  label: string;
  status: ConsentStatus;
  /** Opted out by the browser's Global Privacy Control on save: shown off and not changeable. */
  gpcLocked: boolean;
}

export interface PreferencesModel {
  kind: "preferences";
  recipient: string;
  topics: PageTopic[];
  /** Where the form posts (the link itself) and where "download my data" posts. */
  action: string;
  exportAction: string;
  /** The request carried Sec-GPC: 1. */
  gpc: boolean;
  saved: boolean;
}

const statusText = (status: ConsentStatus, t: Dictionary) =>
  ({ granted: t.statusGranted, pending: t.statusPending, withdrawn: t.statusWithdrawn, expired: t.statusExpired, none: t.statusNone })[status];

/**
 * The preference page's body: plain forms (no JavaScript), one checkbox per topic with a hidden
 * field naming it, so that an unticked box is told from a topic the page did not show.
 */
export function PreferencesBody({ model, t }: { model: PreferencesModel; t: Dictionary }) {
  return (
    <>
      {model.saved ? (
        <p class="saved" role="status">
          {t.preferencesSaved}
        </p>
      ) : null}
      <p>{t.preferencesIntro}</p>
      <p class="recipient">
        {t.recipientLabel}: <strong>{model.recipient}</strong>
      </p>
      {model.gpc ? <p class="note gpc">{t.preferencesGpcSeen}</p> : null}
      <form method="post" action={model.action}>
        <fieldset>
          <legend>{t.preferencesLegend}</legend>
          {model.topics.length === 0 ? <p class="note">{t.preferencesNoTopics}</p> : null}
          {model.topics.map((topic, index) => (
            <div class="topic">
              <input type="hidden" name="shown" value={topic.topic} />
              <input
                type="checkbox"
                id={`topic-${index}`}
                name="granted"
                value={topic.topic}
                checked={topic.status === "granted" && !topic.gpcLocked}
                disabled={topic.gpcLocked}
                aria-describedby={`topic-${index}-status`}
              />
              <div class="topic-text">
                <label for={`topic-${index}`}>{topic.label}</label>
                <span class="status" id={`topic-${index}-status`}>
                  {topic.gpcLocked ? t.preferencesGpcTopic : statusText(topic.status, t)}
                </span>
              </div>
            </div>
          ))}
        </fieldset>
        <div class="actions">
          <button type="submit" name="action" value="save">
            {t.preferencesSave}
          </button>
          <button type="submit" name="action" value="unsubscribe_all" class="secondary">
            {t.preferencesUnsubscribeAll}
          </button>
        </div>
      </form>
      <form method="post" action={model.exportAction} class="download">
        <button type="submit" class="secondary">
          {t.preferencesDownload}
        </button>
        <p class="note">{t.preferencesDownloadNote}</p>
      </form>
    </>
  );
}
