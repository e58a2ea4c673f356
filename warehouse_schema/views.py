"""The analyst contract: views in schema ``mart``.

Amounts are 万元, NUMERIC with 2 decimals.  The fact views show only documents
whose status is ``loaded`` (they passed the blocking data-quality checks).
The SQL is the common subset of DuckDB and PostgreSQL.
"""

from __future__ import annotations

WAN = "CAST(ROUND({col} / 10000.0, 2) AS NUMERIC(18, 2))"


def _wan(col: str) -> str:
    return WAN.format(col=col)


VIEWS: dict[str, str] = {
    "mart.documents": """
        SELECT d.document_sha256, d.source_url, d.region_code, d.fiscal_year, d.department_name,
               d.doc_type, d.status, d.status_reason, d.page_count, d.fetched_at
        FROM core.document d
    """,
    "mart.quality_findings": """
        SELECT f.document_sha256, f.check_name, f.severity, f.expected, f.actual, f.page, f.detail,
               f.table_type, f.row_index
        FROM core.quality_finding f
    """,
    "mart.expenditure_by_function": f"""
        SELECT d.region_code, r.region_name, d.fiscal_year, d.department_name,
               COALESCE(u.unit_name, d.department_name) AS unit_name,
               f.function_code, f.function_name,
               SUBSTR(f.function_code, 1, 3) AS class_code,
               c.function_name AS class_name,
               {_wan('f.total_yuan')} AS total_wan,
               {_wan('f.basic_yuan')} AS basic_wan,
               {_wan('f.project_yuan')} AS project_wan,
               f.document_sha256, f.page
        FROM core.fact_function_expenditure f
        JOIN core.document d ON d.document_sha256 = f.document_sha256
        LEFT JOIN core.dim_region r ON r.region_code = d.region_code
        LEFT JOIN (
            SELECT document_sha256, table_type, unit_code, MIN(function_name) AS unit_name
            FROM core.fact_function_expenditure
            WHERE row_kind = 'subtotal' AND unit_code IS NOT NULL AND unit_code <> ''
              AND (function_code IS NULL OR function_code = '')
            GROUP BY document_sha256, table_type, unit_code
        ) u ON u.document_sha256 = f.document_sha256 AND u.table_type = f.table_type
            AND u.unit_code = f.unit_code
        LEFT JOIN (
            SELECT document_sha256, table_type, function_code, MIN(function_name) AS function_name
            FROM core.fact_function_expenditure
            WHERE LENGTH(function_code) = 3
            GROUP BY document_sha256, table_type, function_code
        ) c ON c.document_sha256 = f.document_sha256 AND c.table_type = f.table_type
            AND c.function_code = SUBSTR(f.function_code, 1, 3)
        WHERE f.table_type = 'gpb_expenditure' AND f.row_kind = 'detail'
          AND LENGTH(f.function_code) = 7 AND d.status = 'loaded'
    """,
    "mart.basic_expenditure_by_economic": f"""
        SELECT d.region_code, r.region_name, d.fiscal_year, d.department_name,
               d.department_name AS unit_name,
               e.econ_code, e.econ_name, e.gov_econ_code,
               {_wan('e.personnel_yuan')} AS personnel_wan,
               {_wan('e.public_yuan')} AS public_wan,
               {_wan('e.total_yuan')} AS total_wan,
               e.document_sha256, e.page
        FROM core.fact_basic_economic e
        JOIN core.document d ON d.document_sha256 = e.document_sha256
        LEFT JOIN core.dim_region r ON r.region_code = d.region_code
        WHERE e.row_kind = 'detail' AND LENGTH(e.econ_code) = 5 AND d.status = 'loaded'
    """,
}

#: creation order (later views may read earlier ones)
VIEW_ORDER = list(VIEWS)
