"""The Docker-free local runtime: moto's server, the template's resources, the API on localhost."""
