# language: vi
Tính năng: Công nhận trường đạt chuẩn quốc gia
  Là cán bộ của Sở Giáo dục và Đào tạo
  Tôi muốn các phòng chuyên môn thẩm định song song, kiểm tra thực tế tại trường rồi trình Lãnh đạo Sở
  Để nhà trường nhận quyết định công nhận hoặc văn bản không công nhận trong 30 ngày làm việc

  Bối cảnh:
    Cho thời điểm hiện tại là "2025-12-17 08:00"

  Kịch bản: Ba phòng thẩm định song song, kiểm tra thực tế đạt, công nhận trước hạn
    Khi cán bộ một cửa tiếp nhận hồ sơ trực tiếp thủ tục "national_standard_school" với người nộp "Trường Tiểu học Võ Thị Sáu"
    Và thời gian trôi tới "2025-12-17 09:00"
    Và cán bộ một cửa hoàn thành bước "receipt_check" với dữ liệu:
      """
      {"decision": "accept", "checked_documents": ["TP1", "TP2", "TP3", "TP4"]}
      """
    # 30 ngày làm việc từ 09:00 thứ Tư 17/12/2025: 18/12–31/12 (10 ngày), [1/1/2026 Tết Dương lịch],
    # 2/1 (11), 5–9/1 (16), 12–16/1 (21), 19–23/1 (26), 26–29/1 (30).
    Thì hồ sơ có trạng thái 4
    Và hạn trả kết quả là "2026-01-29 09:00"
    Và công việc đang mở là "check_dossier" của vai trò "specialist"
    Khi thời gian trôi tới "2025-12-19 10:00"
    Và chuyên viên hoàn thành bước "check_dossier" với dữ liệu:
      """
      {"dossier_valid": true, "school_level": "primary", "requested_grade": "level_1"}
      """
    Thì công việc đang mở gồm:
      | bước                 | vai trò          |
      | specialist_appraisal | specialist       |
      | quality_appraisal    | other_department |
      | facilities_appraisal | other_department |
    Khi thời gian trôi tới "2025-12-26 10:00"
    Và phòng phối hợp hoàn thành bước "quality_appraisal" với dữ liệu:
      """
      {"quality_opinion": "meets", "quality_note": "Đạt kiểm định chất lượng giáo dục cấp độ 2"}
      """
    Và thời gian trôi tới "2025-12-29 14:00"
    Và chuyên viên hoàn thành bước "specialist_appraisal" với dữ liệu:
      """
      {"specialist_opinion": "meets"}
      """
    Thì công việc đang mở là "facilities_appraisal" của vai trò "other_department"
    Khi thời gian trôi tới "2025-12-30 10:00"
    Và phòng phối hợp hoàn thành bước "facilities_appraisal" với dữ liệu:
      """
      {"facilities_opinion": "meets", "facilities_note": "Đủ phòng học, thư viện, sân chơi theo tiêu chuẩn"}
      """
    Thì công việc đang mở là "site_inspection" của vai trò "specialist"
    Khi thời gian trôi tới "2026-01-09 16:00"
    Và chuyên viên hoàn thành bước "site_inspection" với dữ liệu:
      """
      {"inspection_date": "2026-01-08", "inspection_passed": true, "minutes_ref": "BB-03/2026/ĐKT"}
      """
    Và thời gian trôi tới "2026-01-14 10:00"
    Và chuyên viên hoàn thành bước "consolidate" với dữ liệu:
      """
      {"recommendation": "recognise", "report": "Trường đạt đủ 5 tiêu chuẩn trường chuẩn quốc gia mức độ 1"}
      """
    Và thời gian trôi tới "2026-01-16 09:00"
    Và lãnh đạo phòng hoàn thành bước "head_review" với dữ liệu:
      """
      {"approved": true}
      """
    Và thời gian trôi tới "2026-01-22 15:00"
    Và lãnh đạo Sở hoàn thành bước "director_decision" với dữ liệu:
      """
      {"recognised": true, "decision_number": "85/QĐ-SGDĐT", "decision_date": "2026-01-22"}
      """
    Thì hồ sơ có trạng thái 9
    Và hồ sơ được xếp loại "early"
    Khi cán bộ một cửa hoàn thành bước "return_result" với dữ liệu:
      """
      {"method": "in_person", "returned_to": "Bùi Thị Hạnh (hiệu trưởng)"}
      """
    Thì hồ sơ có trạng thái 10
    Và hồ sơ đã kết thúc
    Và nhật ký hồ sơ có các chuyển trạng thái "1→2, 2→4, 4→9, 9→10"
    Và chuỗi băm của nhật ký hồ sơ toàn vẹn

  Kịch bản: Không đạt tiêu chuẩn cơ sở vật chất thì không công nhận, trả văn bản đúng hạn
    Khi cán bộ một cửa tiếp nhận hồ sơ trực tiếp thủ tục "national_standard_school" với người nộp "Trường THCS Lê Lợi"
    Và thời gian trôi tới "2025-12-17 09:00"
    Và cán bộ một cửa hoàn thành bước "receipt_check" với dữ liệu:
      """
      {"decision": "accept", "checked_documents": ["TP1", "TP2", "TP3"]}
      """
    Và chuyên viên hoàn thành bước "check_dossier" với dữ liệu:
      """
      {"dossier_valid": true, "school_level": "lower_secondary", "requested_grade": "level_2"}
      """
    Và chuyên viên hoàn thành bước "specialist_appraisal" với dữ liệu:
      """
      {"specialist_opinion": "meets"}
      """
    Và phòng phối hợp hoàn thành bước "quality_appraisal" với dữ liệu:
      """
      {"quality_opinion": "meets"}
      """
    Và phòng phối hợp hoàn thành bước "facilities_appraisal" với dữ liệu:
      """
      {"facilities_opinion": "not_meets", "facilities_note": "Thiếu phòng học bộ môn Tin học và Ngoại ngữ"}
      """
    Và thời gian trôi tới "2026-01-12 14:00"
    Và chuyên viên hoàn thành bước "site_inspection" với dữ liệu:
      """
      {"inspection_date": "2026-01-12", "inspection_passed": false, "minutes_ref": "BB-07/2026/ĐKT",
       "findings": "Xác nhận thiếu 2 phòng học bộ môn; diện tích sân chơi dưới mức tối thiểu"}
      """
    Và chuyên viên hoàn thành bước "consolidate" với dữ liệu:
      """
      {"recommendation": "not_recognise", "report": "Chưa đạt tiêu chuẩn 3 về cơ sở vật chất"}
      """
    Và lãnh đạo phòng hoàn thành bước "head_review" với dữ liệu:
      """
      {"approved": true}
      """
    Thì lãnh đạo Sở không được hoàn thành bước "director_decision" khi thiếu "refusal_reason" với dữ liệu:
      """
      {"recognised": false, "decision_number": "140/SGDĐT-KTKĐ"}
      """
    # Ký trong ngày hẹn, trước 09:00: đúng hạn.
    Khi thời gian trôi tới "2026-01-29 08:40"
    Và lãnh đạo Sở hoàn thành bước "director_decision" với dữ liệu:
      """
      {"recognised": false, "decision_number": "140/SGDĐT-KTKĐ", "decision_date": "2026-01-29",
       "refusal_reason": "Chưa đạt tiêu chuẩn 3 (cơ sở vật chất và thiết bị dạy học) mức độ 2"}
      """
    Thì hồ sơ có trạng thái 9
    Và hồ sơ được xếp loại "on_time"
    Và kết quả hồ sơ có "recognised" là false
    Khi cán bộ một cửa hoàn thành bước "return_result" với dữ liệu:
      """
      {"method": "post", "post_tracking": "RR012345678VN", "returned_to": "Trường THCS Lê Lợi"}
      """
    Thì hồ sơ có trạng thái 10
    Và nhật ký hồ sơ có các chuyển trạng thái "1→2, 2→4, 4→9, 9→10"

  Kịch bản: Nhà trường xin hoãn kiểm tra thực tế, Sở xin lỗi và hẹn lại trước ngày hẹn, kết quả vẫn quá hạn
    Khi cán bộ một cửa tiếp nhận hồ sơ trực tiếp thủ tục "national_standard_school" với người nộp "Trường Mầm non Hoa Mai"
    Và thời gian trôi tới "2025-12-17 09:00"
    Và cán bộ một cửa hoàn thành bước "receipt_check" với dữ liệu:
      """
      {"decision": "accept", "checked_documents": ["TP1", "TP2", "TP3"]}
      """
    Và chuyên viên hoàn thành bước "check_dossier" với dữ liệu:
      """
      {"dossier_valid": true, "school_level": "preschool", "requested_grade": "level_1"}
      """
    Và chuyên viên hoàn thành bước "specialist_appraisal" với dữ liệu:
      """
      {"specialist_opinion": "meets"}
      """
    Và phòng phối hợp hoàn thành bước "quality_appraisal" với dữ liệu:
      """
      {"quality_opinion": "meets"}
      """
    Và phòng phối hợp hoàn thành bước "facilities_appraisal" với dữ liệu:
      """
      {"facilities_opinion": "meets"}
      """
    # Phiếu xin lỗi (Mẫu 04) lập trước ngày hẹn 29/01/2026.
    Khi thời gian trôi tới "2026-01-26 10:00"
    Và lãnh đạo Sở ban hành phiếu xin lỗi hẹn lại ngày "2026-02-06 16:00" với lý do "Nhà trường đề nghị hoãn kiểm tra thực tế do trùng lịch hội giảng" do lỗi của "Phòng Giáo dục Mầm non"
    Thì phiếu xin lỗi ghi ngày hẹn cũ "2026-01-29 09:00" và ngày hẹn mới "2026-02-06 16:00"
    Nhưng lãnh đạo Sở không được ban hành thêm phiếu xin lỗi hẹn lại ngày "2026-02-13 16:00"
    Khi thời gian trôi tới "2026-02-03 15:00"
    Và chuyên viên hoàn thành bước "site_inspection" với dữ liệu:
      """
      {"inspection_date": "2026-02-03", "inspection_passed": true, "minutes_ref": "BB-11/2026/ĐKT"}
      """
    Và chuyên viên hoàn thành bước "consolidate" với dữ liệu:
      """
      {"recommendation": "recognise", "report": "Trường đạt chuẩn quốc gia mức độ 1"}
      """
    Và lãnh đạo phòng hoàn thành bước "head_review" với dữ liệu:
      """
      {"approved": true}
      """
    Và thời gian trôi tới "2026-02-05 10:00"
    Và lãnh đạo Sở hoàn thành bước "director_decision" với dữ liệu:
      """
      {"recognised": true, "decision_number": "176/QĐ-SGDĐT", "decision_date": "2026-02-05"}
      """
    Thì hồ sơ có trạng thái 9
    Và hồ sơ được xếp loại "late"
    Và nhật ký hồ sơ có sự kiện "apology_issued"
