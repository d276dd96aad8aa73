import { Link } from "react-router";
import { useConsole } from "../context";
import { credits } from "../format";

/** Stripe Checkout's cancel URL: nothing was paid, nothing changed. */
export function TopUpCancelled() {
  const { account } = useConsole();
  return (
    <section aria-labelledby="page-title">
      <div className="page-head">
        <h1 id="page-title" tabIndex={-1}>
          Payment cancelled
        </h1>
      </div>
      <div className="card" data-testid="topup-cancelled">
        <p>
          You left Stripe Checkout before paying. <strong>Nothing was charged and no credits were added</strong>; your
          balance is unchanged{account ? ` at ${credits(account.balance)} credits` : ""}.
        </p>
        <p className="actions">
          <Link to="/billing/topup" className="btn btn-primary">
            Choose an amount again
          </Link>
          <Link to="/billing/overview" className="btn btn-quiet">
            Back to the Usage Overview
          </Link>
        </p>
      </div>
    </section>
  );
}
