"""Pure metric functions over Decimal and pandas. No I/O."""
