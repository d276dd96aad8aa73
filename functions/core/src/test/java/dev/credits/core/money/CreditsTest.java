package dev.credits.core.money;

import dev.credits.core.money.Credits.AmountException;
import dev.credits.core.money.Credits.Problem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.math.BigDecimal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

class CreditsTest {

    @ParameterizedTest(name = "{0} credits = {1} micro-credits")
    @CsvSource({
            "0,                 0",
            "1,                 1000000",
            "1.25,              1250000",
            "0.000001,          1",
            "0.1,               100000",
            "1.123456,          1123456",
            "1.1234560,         1123456",    // trailing zeros are not extra precision
            "1.1234560000000,   1123456",
            "1E+2,              100000000",
            "1e3,               1000000000",
            "0E-10,             0",
            "9223372036854.775807, 9223372036854775807", // exactly Long.MAX_VALUE micro-credits
    })
    void convertsExactly(String credits, long micros) throws AmountException {
        assertEquals(micros, Credits.toMicros(new BigDecimal(credits), false));
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.1234567", "0.0000001", "0.00000010", "-0.0000001", "1.000000000001", "1E-7"})
    void refusesMoreThanSixFractionalDigits(String credits) {
        AmountException e = assertThrows(AmountException.class,
                () -> Credits.toMicros(new BigDecimal(credits), true));
        assertEquals(Problem.TOO_MANY_DECIMALS, e.problem());
    }

    @ParameterizedTest
    @ValueSource(strings = {"-1", "-0.000001", "-1.5", "-9223372036854.775807"})
    void refusesNegativesUnlessAllowed(String credits) {
        AmountException e = assertThrows(AmountException.class,
                () -> Credits.toMicros(new BigDecimal(credits), false));
        assertEquals(Problem.NEGATIVE, e.problem());
    }

    @ParameterizedTest(name = "{0} credits = {1} micro-credits when negatives are allowed")
    @CsvSource({
            "-1,                     -1000000",
            "-0.000001,              -1",
            "-2.5,                   -2500000",
            "-9223372036854.775807,  -9223372036854775807",
    })
    void acceptsNegativesWhenAllowed(String credits, long micros) throws AmountException {
        assertEquals(micros, Credits.toMicros(new BigDecimal(credits), true));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "9223372036854.775808",      // Long.MAX_VALUE + 1 micro-credits
            "9223372036855",
            "10000000000000000000",
            "1E+30",
            "1E+1000",
    })
    void refusesValuesPastLongRange(String credits) {
        for (boolean allowNegative : new boolean[] {false, true}) {
            AmountException e = assertThrows(AmountException.class,
                    () -> Credits.toMicros(new BigDecimal(credits), allowNegative));
            assertEquals(Problem.TOO_LARGE, e.problem());
        }
        AmountException neg = assertThrows(AmountException.class,
                () -> Credits.toMicros(new BigDecimal(credits).negate(), true));
        assertEquals(Problem.TOO_LARGE, neg.problem());
    }

    @ParameterizedTest(name = "{0} micro-credits shows as {1}")
    @CsvSource({
            "0,          0",
            "1,          0.000001",
            "1250000,    1.25",
            "1000000,    1",
            "10000000,   10",
            "100000,     0.1",
            "-1,         -0.000001",
            "-2500000,   -2.5",
            "9223372036854775807, 9223372036854.775807",
    })
    void toCreditsIsExactWithoutTrailingZerosOrExponent(long micros, String shown) {
        BigDecimal credits = Credits.toCredits(micros);
        assertEquals(shown, credits.toString(), "toString must not use scientific notation");
        assertEquals(shown, credits.toPlainString());
        assertEquals(shown, Credits.format(micros));
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 1, -1, 7, 999_999, 1_000_000, 1_000_001, 123_456_789_012L, -987_654_321L,
            Long.MAX_VALUE, Long.MAX_VALUE - 1, Long.MIN_VALUE + 1})
    void roundTripsEveryMicroAmount(long micros) throws AmountException {
        assertEquals(micros, Credits.toMicros(Credits.toCredits(micros), true));
        if (micros >= 0) assertEquals(micros, Credits.toMicros(Credits.toCredits(micros), false));
    }

    @Test
    void roundTripsCreditsText() throws AmountException {
        for (String s : new String[] {"0.000001", "1.25", "42", "1234567.891011", "9223372036854.775807"}) {
            assertEquals(s, Credits.toCredits(Credits.toMicros(new BigDecimal(s), false)).toPlainString());
        }
    }

    @Test
    void neverUsesFloatingPoint() {
        for (Method m : Credits.class.getDeclaredMethods()) {
            assertFalse(isFloat(m.getReturnType()), m + " returns a floating point type");
            for (Class<?> p : m.getParameterTypes()) assertFalse(isFloat(p), m + " takes a floating point type");
        }
        for (Field f : Credits.class.getDeclaredFields()) {
            if (Modifier.isStatic(f.getModifiers())) assertFalse(isFloat(f.getType()), f + " is floating point");
        }
    }

    private static boolean isFloat(Class<?> c) {
        return c == double.class || c == float.class || c == Double.class || c == Float.class;
    }
}
