package dev.credits.local;

import java.util.List;

/**
 * {@code make token ROLE=owner|metering|admin ACCOUNT=<id>}: prints a bearer token the local runner accepts.
 * Owners are bound to one account; metering and admin tokens carry their scope.
 */
public final class TokenCli {
    public static void main(String[] args) {
        String role = args.length > 0 ? args[0] : "owner";
        String account = args.length > 1 && !args[1].isBlank() ? args[1] : null;
        long ttl = args.length > 2 ? Long.parseLong(args[2]) : 12 * 3600;
        LocalJwt jwt = LocalJwt.fromEnv();
        String token = switch (role) {
            case "owner" -> {
                if (account == null) {
                    System.err.println("an owner token needs ACCOUNT=<id>");
                    System.exit(2);
                }
                yield jwt.issue("owner-of-" + account, account, List.of(), ttl);
            }
            case "metering" -> jwt.issue("metering-service", null, List.of("credits/metering"), ttl);
            case "admin" -> jwt.issue("platform-admin", null, List.of("credits/admin"), ttl);
            default -> {
                System.err.println("ROLE must be owner, metering or admin");
                System.exit(2);
                yield null;
            }
        };
        System.out.println(token);
    }
}
