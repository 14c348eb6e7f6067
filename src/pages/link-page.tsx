import type { Branding } from "../config";
import type { Language } from "../languages";
import type { Dictionary } from "./i18n";
import { PreferencesBody, type PreferencesModel } from "./preference-page";

/** Every page a consent link can show. */
export type PageModel =
  | { kind: "confirm"; topic: string; recipient: string; action: string }
  | { kind: "success"; topic: string; redirectUrl?: string }
  | { kind: "already_confirmed"; topic: string; redirectUrl?: string }
  | { kind: "withdrawn"; topic: string }
  | { kind: "expired" }
  | { kind: "invalid" }
  | { kind: "too_large" }
  | { kind: "too_many_requests"; retryAfterSeconds: number }
  | { kind: "opt_out_confirm"; topic: string; recipient: string; action: string }
  | { kind: "opt_out_success"; topic: string }
  | PreferencesModel;

/** Hides most of an address: the page may be seen over someone's shoulder. */
export function maskIdentifier(identifier: string): string {
  const at = identifier.lastIndexOf("@");
  if (at > 0) return `${identifier[0]}***${identifier.slice(at)}`;
  if (identifier.length <= 4) return "***";
  return `${identifier.slice(0, 3)}***${identifier.slice(-2)}`;
}

/** Black or white, whichever reads better on `hex` (WCAG relative luminance). */
function textOn(hex: string): string {
  const digits = hex.length <= 5 ? [...hex.slice(1, 4)].map((d) => d + d) : [hex.slice(1, 3), hex.slice(3, 5), hex.slice(5, 7)];
  const [r, g, b] = digits.map((d) => {
    const c = parseInt(d, 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  const luminance = 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
  return luminance > 0.179 ? "#111111" : "#ffffff";
}

const DEFAULT_PRIMARY = "#0b5cad";

function styles(primary: string) {
  return `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font: 1.0625rem/1.6 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1a1a; background: #f4f5f7; }
main { max-width: 34rem; margin: 2rem auto; padding: 2rem 1.5rem; background: #ffffff; border-radius: 12px; box-shadow: 0 1px 4px rgba(0,0,0,.12); overflow-wrap: anywhere; }
header { display: flex; align-items: center; gap: .75rem; margin-bottom: 1.25rem; color: #444444; font-size: .95rem; }
header img { max-height: 40px; max-width: 160px; }
h1 { font-size: 1.5rem; line-height: 1.3; margin: 0 0 1rem; }
p, form { margin: 0 0 1rem; }
.recipient { color: #444444; }
.note { color: #444444; font-size: .95rem; }
button, .button { display: inline-block; min-height: 48px; padding: .75rem 1.5rem; border: 0; border-radius: 8px; font: inherit; font-weight: 600; cursor: pointer; text-decoration: none;
  background: ${primary}; color: ${textOn(primary)}; }
button:focus-visible, a:focus-visible { outline: 3px solid #1a1a1a; outline-offset: 3px; }
footer { margin-top: 1.5rem; font-size: .9rem; }
fieldset { border: 1px solid #c4c7cc; border-radius: 8px; margin: 0 0 1rem; padding: .5rem 1rem; }
legend { font-weight: 600; padding: 0 .25rem; }
.topic { display: flex; align-items: flex-start; gap: .75rem; padding: .6rem 0; border-top: 1px solid #e3e5e8; }
.topic:first-of-type { border-top: 0; }
.topic input[type=checkbox] { width: 1.5rem; height: 1.5rem; margin: .1rem 0 0; flex: none; accent-color: ${primary}; }
.topic-text { flex: 1; }
.topic label { cursor: pointer; font-weight: 600; }
.status { display: block; color: #444444; font-size: .9rem; }
.actions { display: flex; flex-wrap: wrap; gap: .75rem; }
button.secondary { background: #ffffff; color: #1a1a1a; border: 2px solid ${primary}; }
.saved { padding: .75rem 1rem; border-radius: 8px; background: #e6f4ea; color: #0d4a1f; font-weight: 600; }
.gpc { padding: .75rem 1rem; border-radius: 8px; background: #eef2f8; }
.download { margin-top: 1.5rem; }
footer a { color: #0b4f94; }
@media (max-width: 480px) { main { margin: 0; border-radius: 0; min-height: 100vh; } button, .button { width: 100%; } }
`;
}

interface Props {
  model: PageModel;
  lang: Language;
  t: Dictionary;
  branding?: Branding;
  nonce: string;
}

function title(model: PageModel, t: Dictionary): string {
  switch (model.kind) {
    case "confirm": return t.confirmTitle;
    case "success": return t.successTitle;
    case "already_confirmed": return t.alreadyConfirmedTitle;
    case "withdrawn": return t.withdrawnTitle;
    case "expired": return t.expiredTitle;
    case "invalid": return t.invalidTitle;
    case "too_large": return t.tooLargeTitle;
    case "too_many_requests": return t.tooManyRequestsTitle;
    case "opt_out_confirm": return t.optOutTitle;
    case "opt_out_success": return t.optOutSuccessTitle;
    case "preferences": return t.preferencesTitle;
  }
}

function Body({ model, t }: { model: PageModel; t: Dictionary }) {
  switch (model.kind) {
    case "confirm":
    case "opt_out_confirm": {
      const optOut = model.kind === "opt_out_confirm";
      return (
        <>
          <p>{optOut ? t.optOutIntro(model.topic) : t.confirmIntro(model.topic)}</p>
          <p class="recipient">
            {t.recipientLabel}: <strong>{model.recipient}</strong>
          </p>
          {/* A plain form: works without JavaScript, and only a deliberate click submits it. */}
          <form method="post" action={model.action}>
            <input type="hidden" name="confirm" value="yes" />
            <button type="submit">{optOut ? t.optOutButton : t.confirmButton}</button>
          </form>
          {optOut ? null : <p class="note">{t.confirmNote}</p>}
        </>
      );
    }
    case "success":
    case "already_confirmed":
      return (
        <>
          <p>{model.kind === "success" ? t.successBody(model.topic) : t.alreadyConfirmedBody(model.topic)}</p>
          {model.redirectUrl ? (
            <p>
              <a class="button" href={model.redirectUrl} rel="noreferrer">
                {t.continue}
              </a>
            </p>
          ) : null}
        </>
      );
    case "withdrawn":
      return <p>{t.withdrawnBody(model.topic)}</p>;
    case "expired":
      return (
        <>
          <p>{t.expiredBody}</p>
          <p>{t.expiredNextSteps}</p>
        </>
      );
    case "invalid":
      return <p>{t.invalidBody}</p>;
    case "too_large":
      return <p>{t.tooLargeBody}</p>;
    case "too_many_requests":
      return <p>{t.tooManyRequestsBody(model.retryAfterSeconds)}</p>;
    case "opt_out_success":
      return <p>{t.optOutSuccessBody(model.topic)}</p>;
    case "preferences":
      return <PreferencesBody model={model} t={t} />;
  }
}

/** A consent link's page: self-contained (no scripts, no external styles), escaped by hono/jsx. */
export function LinkPage({ model, lang, t, branding, nonce }: Props) {
  const heading = title(model, t);
  return (
    <html lang={lang} dir={t.dir}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex, nofollow" />
        <title>{branding?.name ? `${heading} · ${branding.name}` : heading}</title>
        <style nonce={nonce} dangerouslySetInnerHTML={{ __html: styles(branding?.primary_color ?? DEFAULT_PRIMARY) }} />
      </head>
      <body>
        <main>
          {branding?.name || branding?.logo_url ? (
            <header>
              {branding.logo_url ? <img src={branding.logo_url} alt={branding.name ?? ""} /> : null}
              {branding.name ? <span>{t.onBehalfOf(branding.name)}</span> : null}
            </header>
          ) : null}
          <h1>{heading}</h1>
          <Body model={model} t={t} />
          {branding?.privacy_policy_url ? (
            <footer>
              <a href={branding.privacy_policy_url} rel="noreferrer">
                {t.privacyPolicy}
              </a>
            </footer>
          ) : null}
        </main>
      </body>
    </html>
  );
}
