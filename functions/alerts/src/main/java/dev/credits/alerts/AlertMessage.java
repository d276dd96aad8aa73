package dev.credits.alerts;

import dev.credits.core.domain.Alerts;
import dev.credits.core.money.Credits;

import java.time.Instant;
import java.util.Map;

/** One alert email: a human subject and body, and the message attributes subscription filters select on. */
public record AlertMessage(String accountId, Alerts.Kind kind, String subject, String body, Map<String, String> attributes) {

    public static AlertMessage of(Alerts.Alert d, long hardLimit, Instant at) {
        String account = d.account().value();
        String subject;
        String body;
        if (d.kind() == Alerts.Kind.SOFT_LIMIT) {
            subject = "Credits running low on account " + account;
            body = """
                    The credit balance of account %s has dropped below its soft limit.

                      Balance:     %s credits
                      Soft limit:  %s credits
                      Hard limit:  %s credits (usage stops there)
                      Time:        %s

                    What to do: top up credits (Billing > Top Up) before the balance reaches the hard limit, when
                    your app's metered calls start being refused. To change when this email is sent, edit the soft
                    limit (Billing > Set Credit Limit).

                    You get this email once each time the balance falls below the soft limit.
                    """.formatted(account, Credits.format(d.balance()), Credits.format(d.threshold()),
                    Credits.format(hardLimit), at);
        } else {
            subject = "Usage stopped on account " + account + ": hard limit reached";
            body = """
                    A usage event for account %s was refused: charging it would have taken the balance below the
                    hard limit. Metered calls of your app are being refused until credits are available again.

                      Balance:     %s credits
                      Hard limit:  %s credits
                      Time:        %s

                    What to do: top up credits (Billing > Top Up), or lower the hard limit
                    (Billing > Set Credit Limit). Usage resumes as soon as either is done.

                    You get this email once each time usage stops.
                    """.formatted(account, Credits.format(d.balance()), Credits.format(d.threshold()), at);
        }
        return new AlertMessage(account, d.kind(), subject, body,
                Map.of("accountId", account, "alertType", d.kind().wire()));
    }
}
