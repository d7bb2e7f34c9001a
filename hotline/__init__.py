"""文明直通车 (the civility express hotline): intake, routing and follow-up of complaints."""
