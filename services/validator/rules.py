"""The rule catalogue (../shared/spec/rules.md) as data: one ordered tuple, one place.

Ids are stable. A message is a ``str.format`` template over the params of the check's hit;
Chinese is what the office reads, English is for operators. docs/rules.md is generated from
this tuple (``python -m services.validator.docs``).
"""

from __future__ import annotations

from collections.abc import Iterator

from services.validator import checks, narrative, sums
from services.validator.model import Hit, Report, Rule


def _never(_: Report) -> Iterator[Hit]:
    """DOC-UNREADABLE is given by the parser's failure, not by a check of a parsed report."""
    return iter(())


RULES: tuple[Rule, ...] = (
    Rule(
        "DOC-UNREADABLE",
        "error",
        "上传文件无法作为年度报告读取（空文件、乱码、损坏或加密的文档、超过大小限制、或没有年度报告的结构）",
        "the upload cannot be read as a report at all",
        "上传的文件无法读取：{reason_zh}。请检查文件后重新上传（支持 .docx、PDF、HTML、文本格式）。",
        "The upload cannot be read: {reason_en} ({detail}).",
        _never,
    ),
    Rule(
        "DOC-OFFICE-UNKNOWN",
        "error",
        "文档中找不到发布机关（标题、报送单位、前言、落款、网页标题），报送时也未声明机关",
        "no issuing office can be found in the document, and the submission declares none",
        "未能在报告中找到发布机关名称。请在标题中写明机关全称（如“××街道办事处2023年政府信息公开工作年度报告”），并在文末落款。",
        "No issuing office found in the title, 报送单位, preamble, signature or page title, and none declared.",
        checks.office_unknown,
    ),
    Rule(
        "DOC-YEAR-UNKNOWN",
        "error",
        "文档中找不到报告年度（标题、“XXXX年度”、统计期限），报送时也未声明年度",
        "no report year can be found in the document, and the submission declares none",
        "未能在报告中找到报告年度。请在标题中写明年度（如“2023年政府信息公开工作年度报告”）。",
        "No report year found (title, “XXXX年度”, 统计期限), and none declared.",
        checks.year_unknown,
    ),
    Rule(
        "DOC-OFFICE-MISMATCH",
        "error",
        "文档中的机关与提交机关不一致",
        "the office in the document is not the office the submission came from",
        "报告中的机关“{found}”与报送账号所属机关“{registered}”不一致。请确认上传的是本机关的报告。",
        "The document names “{found}”, the submission came from “{registered}”.",
        checks.office_mismatch,
    ),
    Rule(
        "DOC-YEAR-MISMATCH",
        "error",
        "报告年度与报送时声明的年度不一致",
        "the report year differs from the declared year",
        "报告年度为{found}年，与报送时选择的{declared}年度不一致。请上传{declared}年度的报告，或重新选择年度。",
        "The report is for {found}; the submission declares {declared}.",
        checks.year_mismatch,
    ),
    Rule(
        "DOC-TITLE",
        "warning",
        "标题不符合“……XXXX年（度）政府信息公开工作年度报告”",
        "the title does not read as “…XXXX年(度)政府信息公开工作年度报告”",
        "{problem_zh}。标题应为“（机关名称）XXXX年政府信息公开工作年度报告”。",
        "Title: {problem_en}; expected “…XXXX年政府信息公开工作年度报告”.",
        checks.title,
    ),
    Rule(
        "DOC-LATE",
        "warning",
        "报告日期晚于次年1月31日",
        "the document's date is after 31 January of the following year",
        "报告落款日期为{date}，晚于《条例》规定的{deadline}。",
        "Signed on {date}, after the deadline {deadline}.",
        checks.late,
    ),
    Rule(
        "DOC-SCAN-UNCERTAIN",
        "error",
        "扫描件中有单元格无法可靠识别，无法完成审核",
        "cells of a scanned report could not be read with confidence: the report cannot be checked",
        "上传的是扫描件，其中{count}处单元格、表格行或部分标题无法可靠识别（单元格和表格行见“TPL-CELL-UNCERTAIN”提示），无法完成审核。"
        "请上传可复制文字的文件（Word 文档或文字版 PDF）。",
        "A scan with {count} cells, rows or section headings OCR could not read with confidence; "
        "upload the text (Word or a text PDF).",
        checks.scan_uncertain,
    ),
    Rule(
        "DOC-SECTION-MISSING",
        "error",
        "缺少六个部分之一",
        "one of the six sections is absent",
        "报告缺少“{heading}”部分。请按模板补充该部分（没有需要报告的内容时写“无”）。",
        "Section “{heading}” is missing.",
        checks.section_missing,
    ),
    Rule(
        "DOC-SECTION-ORDER",
        "warning",
        "各部分顺序或编号与模板不一致（如“1、 总体情况”）",
        "sections are out of order or numbered off-template",
        "{problem_zh}。请按模板的顺序和编号（一、二、三……）排列。",
        "{problem_en}.",
        checks.section_order,
    ),
    Rule(
        "DOC-SECTION-EMPTY",
        "warning",
        "某部分只有标题没有内容（第六部分可写“无”）",
        "a section has a heading but no content",
        "“{heading}”部分只有标题，没有内容。请补充内容（没有需要报告的内容时写“无”）。",
        "Section “{heading}” has no content.",
        checks.section_empty,
    ),
    Rule(
        "TPL-TABLE-MISSING",
        "error",
        "缺少表二、表三或表四",
        "table 二, 三 or 四 is absent",
        "报告缺少{table}。请按模板补充该表格，没有发生的事项填“0”。",
        "{table_en} is missing.",
        checks.table_missing,
    ),
    Rule(
        "TPL-VERSION",
        "error",
        "表格样式与报告年度的模板不符（2020年及以前用〔2019〕60号，2021年起用〔2021〕30号）",
        "a table's layout is of the wrong template for the report year",
        "{table}使用了{have}的样式，{year}年度报告应使用{want}的样式。请按正确模板重新填写该表。",
        "{table_en} follows {have}; a {year} report must follow {want}.",
        checks.version,
    ),
    Rule(
        "TPL-ROW-MISSING",
        "error",
        "表格缺少模板中的某一行",
        "a row of the template is absent from a table",
        "{table}缺少“{row}”一行。请按模板补齐该行，没有发生的填“0”。",
        "{table_en}: row “{row}” is missing.",
        checks.row_missing,
    ),
    Rule(
        "TPL-CELL-BLANK",
        "warning",
        "单元格为空或填“/”“—”“无”，模板要求填写0（合计时按0计算）",
        "a cell is blank (or /, -, —, 无): the template asks for an explicit 0",
        "{table}“{row}”行“{column}”列为空（“{raw}”）。没有发生的事项请填写“0”。",
        "{table_en} [{row_id} / {col_id}] is blank; write 0.",
        checks.cell_blank,
    ),
    Rule(
        "TPL-CELL-MISSING",
        "error",
        "某行的数值个数少于列数且无法确定缺少哪一列，或应填数字处无法读取",
        "a row carries fewer values than columns and the gap cannot be placed",
        "{table}“{row}”行只有{count}个数值（{found}），模板有{columns}列，无法确定缺少哪一列。请逐列填写，没有发生的填“0”。",
        "{table_en} [{row_id}]: {count} values where the template has {columns} columns.",
        checks.cell_missing,
    ),
    Rule(
        "TPL-CELL-RUN",
        "warning",
        "某行各单元格的数字连写在一起（网页转文字时常见），无法唯一拆分到各列，本行数值未能核对",
        "a row's figures run together with no separator and cannot be split into its cells with certainty",
        "{table}“{row}”行的数字连写在一起（“{found}”），数字连写，无法唯一拆分到各列，本行数值未能核对。"
        "请上传表格各单元格分开的文件（如 .docx、PDF 或网页原文）。",
        "{table_en} [{row_id}]: figures written together (“{found}”) cannot be split into its {columns} cells "
        "with certainty; the row was not checked.",
        checks.cell_run,
    ),
    Rule(
        "TPL-CELL-UNCERTAIN",
        "warning",
        "扫描件中的单元格无法可靠识别（已显示识别结果，不作核对）",
        "a cell of a scan was read by OCR with too little confidence: shown, not judged",
        "{table}“{row}”行（扫描件）{what_zh}，无法确认，本处未核对。",
        "{table_en} [{row_id}]: {what_en}; not judged.",
        checks.cell_uncertain,
    ),
    Rule(
        "TPL-CELL-INVALID",
        "error",
        "单元格不是该列要求的数字（文字、计数中的小数、负数）",
        "a cell is not a number of the kind the column needs",
        "{table}“{row}”行“{column}”列填写为“{raw}”，应为{need_zh}。",
        "{table_en} [{row_id} / {col_id}] reads “{raw}”; it must be {need_en}.",
        checks.cell_invalid,
    ),
    Rule(
        "TPL-CELL-SUSPECT",
        "warning",
        "单元格是数字但疑似录入错误（如“00”、多余字符）",
        "a cell reads as a number but looks mistyped",
        "{table}“{row}”行“{column}”列填写为“{raw}”，{why_zh}，请确认。",
        "{table_en} [{row_id} / {col_id}] reads “{raw}”: {why_en}.",
        checks.cell_suspect,
    ),
    Rule(
        "TPL-UNIT",
        "warning",
        "金额以“元”而非“万元”填写，或带有模板未要求的单位或精度",
        "a money amount is in 元 instead of 万元, or carries a unit or precision the template does not ask for",
        "{table}“{row}”行“{column}”列填写为“{raw}”：{why_zh}。",
        "{table_en} [{row_id} / {col_id}] reads “{raw}”: {why_en}.",
        checks.unit,
    ),
    Rule(
        "T3-BALANCE",
        "error",
        "表三每一列：第一项加第二项之和，等于第三项加第四项之和",
        "table 三, each column: new_received + carried_over = total + carried_forward",
        "{table}“{column}”列不符合勾稽关系（第一项加第二项之和，等于第三项加第四项之和）："
        "{left} = {left_sum}，{right} = {right_sum}，相差{diff}。请核对后更正。",
        "{table_en} column {col_id}: new_received + carried_over = {left_sum}, total + carried_forward = "
        "{right_sum} (difference {diff}).",
        sums.t3_balance,
    ),
    Rule(
        "T3-ROWSUM",
        "error",
        "表三每一行：总计等于各类申请人之和",
        "table 三, each row: total = the six applicant columns",
        "{table}“{row}”行的“总计”为{left_sum}，但各类申请人之和为{right_sum}（{right}），相差{diff}。请核对后更正。",
        "{table_en} row {row_id}: total {left_sum}, the applicant columns add up to {right_sum} (difference {diff}).",
        sums.t3_rowsum,
    ),
    Rule(
        "T3-RESULT-TOTAL",
        "error",
        "表三每一列：（七）总计等于各项办理结果之和",
        "table 三, each column: total = the sum of every handling-result row",
        "{table}“{column}”列的“（七）总计”为{left_sum}，但（一）至（六）各项办理结果之和为{right_sum}，相差{diff}。请核对后更正。",
        "{table_en} column {col_id}: total {left_sum}, the handling results add up to {right_sum} (difference {diff}).",
        sums.t3_result_total,
    ),
    Rule(
        "T4-SUM",
        "error",
        "表四每组：总计等于结果维持、结果纠正、其他结果、尚未审结之和",
        "table 四, each group: total = upheld + corrected + other + pending",
        "{table}“{row}”的“总计”为{left_sum}，但结果维持、结果纠正、其他结果、尚未审结之和为{right_sum}，相差{diff}。请核对后更正。",
        "{table_en} {row_id}: total {left_sum}, the results add up to {right_sum} (difference {diff}).",
        sums.t4_sum,
    ),
    Rule(
        "T2-CROSS-YEAR",
        "warning",
        "表二（2021模板）：本年现行有效件数 ≠ 上年现行有效件数 + 本年制发件数 − 本年废止件数",
        "table 二 (2021): in_force ≠ last year's in_force + issued − repealed",
        "表二“{row}”：上年（{prev_year}年）现行有效{prev}件，本年制发{issued}件、废止{repealed}件，"
        "现行有效应为{expected}件，表中为{actual}件。请核对。",
        "Table 2 {row_id}: {prev} in force in {prev_year} + {issued} − {repealed} = {expected}, "
        "the table says {actual}.",
        sums.t2_cross_year,
    ),
    Rule(
        "T3-CROSS-YEAR",
        "warning",
        "表三“上年结转”与上年度报告的“结转下年度继续办理”不一致",
        "carried_over differs from the previous year's carried_forward",
        "表三“{column}”列“二、上年结转政府信息公开申请数量”为{actual}，但{prev_year}年度报告“结转下年度继续办理”为{prev}。请核对。",
        "Table 3 column {col_id}: carried over {actual}, the {prev_year} report carried forward {prev}.",
        sums.t3_cross_year,
    ),
    Rule(
        "TXT-T3-MISMATCH",
        "warning",
        "正文所述收到申请数与表三不一致",
        "the text states a number of applications that contradicts table 三",
        "正文称“{text}”（{said}件），但表三“本年新收政府信息公开申请数量”总计为{table}件。请核对正文或表格。",
        "The text says {said} applications (“{text}”); table 3 new_received total is {table}.",
        narrative.t3_statement,
    ),
    Rule(
        "TXT-T4-MISMATCH",
        "warning",
        "正文所述行政复议、行政诉讼数与表四不一致",
        "the text states numbers of reviews or lawsuits that contradict table 四",
        "正文称“{text}”（{what_zh}{said}件），但表四{what_zh}总计为{table}件。请核对正文或表格。",
        "The text says {said} {what_en} (“{text}”); table 4 says {table}.",
        narrative.t4_statement,
    ),
)

BY_ID = {rule.id: rule for rule in RULES}
