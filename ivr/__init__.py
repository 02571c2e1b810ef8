"""The self-service IVR of the 95598 hotline: the FastAGI server, the menu engine, prompts and the flows."""
