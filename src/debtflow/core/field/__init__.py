"""Pure field-app computation: visit outcomes, check-in distance, route map drawing."""
