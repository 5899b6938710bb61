"""The plain GAN (`--method=baseline`): one run of the configured G and D, the reference every method is compared to."""
