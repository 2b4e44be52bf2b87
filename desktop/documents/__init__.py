"""PDFs (reportlab) and spreadsheets (openpyxl). No Qt here."""
