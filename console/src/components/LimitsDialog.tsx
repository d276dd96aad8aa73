import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { ApiError } from "../api";
import { useConsole } from "../context";
import { credits } from "../format";

type Field = "softLimit" | "hardLimit" | "alertEmail";

/**
 * Set Credit Limit: soft limit (alert threshold), hard limit (usage stops) and alert email, in a modal <dialog>
 * (focus is kept inside, Escape closes, focus returns to the control that opened it). The API validates; its
 * 400 names the field, and the message is shown next to that field.
 */
export function LimitsDialog() {
  const { account, api, session, limitsOpen, closeLimits, refreshAccount } = useConsole();
  const ref = useRef<HTMLDialogElement>(null);
  const opener = useRef<HTMLElement | null>(null);
  const [values, setValues] = useState<Record<Field, string>>({ softLimit: "", hardLimit: "", alertEmail: "" });
  const [initial, setInitial] = useState<Record<Field, string>>({ softLimit: "", hardLimit: "", alertEmail: "" });
  const [errors, setErrors] = useState<Partial<Record<Field, string>>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);
  const id = useId();
  const ids = {
    title: `${id}-title`,
    softLimit: `${id}-soft`,
    hardLimit: `${id}-hard`,
    alertEmail: `${id}-email`,
  };
  const inputs = {
    softLimit: useRef<HTMLInputElement>(null),
    hardLimit: useRef<HTMLInputElement>(null),
    alertEmail: useRef<HTMLInputElement>(null),
  };

  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (limitsOpen && !d.open) {
      opener.current = document.activeElement as HTMLElement | null;
      const v = {
        softLimit: account?.softLimit == null ? "" : credits(account.softLimit).replace(/,/g, ""),
        hardLimit: account ? credits(account.hardLimit).replace(/,/g, "") : "",
        alertEmail: account?.alertEmail ?? "",
      };
      setValues(v);
      setInitial(v);
      setErrors({});
      setFormError(null);
      setSaved(null);
      d.showModal();
    } else if (!limitsOpen && d.open) {
      d.close();
    }
  }, [limitsOpen, account]);

  const onClose = () => {
    closeLimits();
    const back = opener.current;
    if (back && back.isConnected) back.focus();
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!account) return;
    const changed: Partial<Record<Field, string>> = {};
    (Object.keys(values) as Field[]).forEach((k) => {
      if (values[k].trim() !== initial[k].trim()) changed[k] = values[k];
    });
    setErrors({});
    setFormError(null);
    if (Object.keys(changed).length === 0) {
      closeLimits();
      return;
    }
    setBusy(true);
    try {
      await api.setLimits(session.accountId, changed);
      await refreshAccount();
      setSaved("Credit limits saved.");
      window.setTimeout(() => setSaved(null), 6000);
      onClose();
    } catch (err) {
      const ae = err instanceof ApiError ? err : new ApiError(0, "unknown", String(err));
      const field = ae.field as Field | undefined;
      if (field && field in inputs) {
        setErrors({ [field]: ae.message });
        inputs[field].current?.focus();
      } else {
        setFormError(ae.message);
      }
    } finally {
      setBusy(false);
    }
  };

  const field = (name: Field, label: string, hint: string, type: "text" | "email" = "text") => (
    <div className="field">
      <label htmlFor={ids[name]}>{label}</label>
      <p className="hint" id={`${ids[name]}-hint`}>
        {hint}
      </p>
      <input
        ref={inputs[name]}
        id={ids[name]}
        name={name}
        type={type}
        inputMode={type === "text" ? "decimal" : undefined}
        autoComplete={type === "email" ? "email" : "off"}
        value={values[name]}
        onChange={(e) => setValues((v) => ({ ...v, [name]: e.target.value }))}
        aria-invalid={errors[name] ? true : undefined}
        aria-describedby={`${ids[name]}-hint${errors[name] ? ` ${ids[name]}-error` : ""}`}
      />
      {errors[name] && (
        <p className="field-error" role="alert" id={`${ids[name]}-error`} data-testid={`error-${name}`}>
          {errors[name]}
        </p>
      )}
    </div>
  );

  return (
    <>
      <dialog ref={ref} className="dialog" aria-labelledby={ids.title} onClose={onClose} data-testid="limits-dialog">
        <form onSubmit={submit} noValidate>
          <h2 id={ids.title}>Set Credit Limit</h2>
          <p className="muted">
            Current balance: {account ? credits(account.balance) : "—"} credits. Amounts are in credits, up to 6
            decimal places.
          </p>
          {field(
            "softLimit",
            "Soft limit (credits)",
            "When the balance drops below this, one alert email is sent. Leave empty for no alert. It must be above the hard limit.",
          )}
          {field(
            "hardLimit",
            "Hard limit (credits)",
            "Usage stops when a charge would take the balance below this floor. 0 uses every credit; empty resets it to 0.",
          )}
          {field(
            "alertEmail",
            "Alert email",
            "Where the soft-limit and usage-stopped alerts go (you confirm the address once). Empty removes it.",
            "email",
          )}
          {formError && (
            <p role="alert" className="error">
              {formError}
            </p>
          )}
          <div className="actions">
            <button type="submit" className="btn btn-primary" disabled={busy}>
              {busy ? "Saving…" : "Save limits"}
            </button>
            <button type="button" className="btn" onClick={() => closeLimits()}>
              Cancel
            </button>
          </div>
        </form>
      </dialog>
      <p className="toast" role="status" data-testid="limits-saved">
        {saved}
      </p>
    </>
  );
}
