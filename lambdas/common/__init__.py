"""Code shared by the orchestration Lambdas: typed settings from the environment, Powertools instances."""
