package dev.credits.core.domain;

/** A field in a partial update: leave it, clear it, or set it. Keeps "absent" and "null" apart. */
public sealed interface Change<T> {
    record Keep<T>() implements Change<T> {}
    record Clear<T>() implements Change<T> {}
    record To<T>(T value) implements Change<T> {
        public To { if (value == null) throw new IllegalArgumentException("use Clear for no value"); }
    }

    default T applyTo(T current) {
        return switch (this) {
            case Keep<T> k -> current;
            case Clear<T> c -> null;
            case To<T> t -> t.value();
        };
    }
}
