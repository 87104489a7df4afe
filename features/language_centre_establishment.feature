# language: vi
Tính năng: Cho phép thành lập trung tâm ngoại ngữ, tin học
  Là cán bộ của Sở Giáo dục và Đào tạo
  Tôi muốn thẩm định hồ sơ cùng đơn vị phối hợp (liên thông) và trình Lãnh đạo Sở quyết định
  Để tổ chức nhận kết quả trong 15 ngày làm việc (10 ngày thẩm định, 5 ngày quyết định)

  Kịch bản: Thẩm định liên thông song song, Lãnh đạo Sở cho phép thành lập đúng hạn
    Cho thời điểm hiện tại là "2026-08-20 08:00"
    Khi cán bộ một cửa tiếp nhận hồ sơ trực tiếp thủ tục "language_centre_establishment" với người nộp "Công ty TNHH Giáo dục Ánh Dương"
    Và thời gian trôi tới "2026-08-20 10:00"
    Và cán bộ một cửa hoàn thành bước "receipt_check" với dữ liệu:
      """
      {"decision": "accept", "checked_documents": ["TP1", "TP2", "TP3"]}
      """
    # 15 ngày làm việc từ 10:00 thứ Năm 20/8: 21/8, thứ Bảy 22/8 (làm bù), 24–28/8 (7 ngày),
    # [31/8 nghỉ thay cho 22/8; 1/9, 2/9 Quốc khánh], 3–4/9, 7–11/9 (14 ngày), thứ Hai 14/9 (15).
    Thì hồ sơ có trạng thái 4
    Và hạn trả kết quả là "2026-09-14 10:00"
    Và công việc đang mở gồm:
      | bước                | vai trò          |
      | appraise_dossier    | specialist       |
      | interdept_appraisal | other_department |
    # 64 giờ làm việc: 20/8 (5 giờ) + 21, 22, 24–28/8 (7 ngày × 7,5 giờ) = 57,5 giờ; 3/9 thêm 6,5 giờ → 16:00.
    Và hạn xử lý bước "appraise_dossier" là "2026-09-03 16:00"
    Và hạn xử lý bước "interdept_appraisal" là "2026-09-03 16:00"
    Khi thời gian trôi tới "2026-08-26 15:00"
    Và đơn vị phối hợp hoàn thành bước "interdept_appraisal" với dữ liệu:
      """
      {"interdept_opinion": "agree", "interdept_document": "215/UBND-VHXH",
       "interdept_note": "Địa điểm đặt trung tâm phù hợp quy hoạch mạng lưới cơ sở giáo dục của phường"}
      """
    Thì bước "interdept_appraisal" được xếp loại "early"
    Và công việc đang mở là "appraise_dossier" của vai trò "specialist"
    Khi thời gian trôi tới "2026-09-03 09:00"
    Và chuyên viên hoàn thành bước "appraise_dossier" với dữ liệu:
      """
      {"dossier_valid": true, "conditions_met": true,
       "appraisal_note": "Đề án, cơ sở vật chất và đội ngũ đáp ứng điều kiện thành lập"}
      """
    Thì bước "appraise_dossier" được xếp loại "on_time"
    Và công việc đang mở là "appraisal_report" của vai trò "specialist"
    Khi thời gian trôi tới "2026-09-07 10:00"
    Và chuyên viên hoàn thành bước "appraisal_report" với dữ liệu:
      """
      {"appraisal_result": "pass", "report": "Hồ sơ đủ điều kiện; đơn vị phối hợp đồng ý"}
      """
    Thì công việc đang mở là "head_review" của vai trò "head_of_department"
    Khi thời gian trôi tới "2026-09-09 09:00"
    Và lãnh đạo phòng hoàn thành bước "head_review" với dữ liệu:
      """
      {"approved": true}
      """
    Thì công việc đang mở là "director_decision" của vai trò "director"
    Khi thời gian trôi tới "2026-09-14 09:30"
    Và lãnh đạo Sở hoàn thành bước "director_decision" với dữ liệu:
      """
      {"permitted": true, "decision_number": "1520/QĐ-SGDĐT", "decision_date": "2026-09-14"}
      """
    Thì hồ sơ có trạng thái 9
    Và hồ sơ được xếp loại "on_time"
    Khi cán bộ một cửa hoàn thành bước "return_result" với dữ liệu:
      """
      {"method": "in_person", "returned_to": "Phạm Quang Huy (giám đốc Công ty TNHH Giáo dục Ánh Dương)"}
      """
    Thì hồ sơ có trạng thái 10
    Và hồ sơ đã kết thúc
    Và nhật ký hồ sơ có các chuyển trạng thái "1→2, 2→4, 4→9, 9→10"
    Và chuỗi băm của nhật ký hồ sơ toàn vẹn

  Kịch bản: Yêu cầu bổ sung khi thẩm định, thẩm định lại song song và trả kết quả trước hạn mới
    Cho thời điểm hiện tại là "2026-03-02 08:30"
    Khi cán bộ một cửa tiếp nhận hồ sơ trực tiếp thủ tục "language_centre_establishment" với người nộp "Trường Đại học Hồng Đức"
    Và thời gian trôi tới "2026-03-02 09:00"
    Và cán bộ một cửa hoàn thành bước "receipt_check" với dữ liệu:
      """
      {"decision": "accept", "checked_documents": ["TP1", "TP2", "TP3"]}
      """
    Thì hạn trả kết quả là "2026-03-23 09:00"
    Khi thời gian trôi tới "2026-03-05 10:00"
    Và đơn vị phối hợp hoàn thành bước "interdept_appraisal" với dữ liệu:
      """
      {"interdept_opinion": "agree", "interdept_document": "87/UBND-VHXH"}
      """
    Và thời gian trôi tới "2026-03-06 10:00"
    Và chuyên viên hoàn thành bước "appraise_dossier" với dữ liệu:
      """
      {"dossier_valid": false, "conditions_met": true,
       "appraisal_note": "Hợp đồng thuê địa điểm hết hạn trước thời gian hoạt động dự kiến"}
      """
    Thì chuyên viên không được hoàn thành bước "appraisal_report" khi thiếu "missing_documents" với dữ liệu:
      """
      {"appraisal_result": "supplement", "report": "Đề nghị bổ sung hồ sơ"}
      """
    Khi thời gian trôi tới "2026-03-09 09:00"
    Và chuyên viên hoàn thành bước "appraisal_report" với dữ liệu:
      """
      {"appraisal_result": "supplement", "missing_documents": ["TP3"],
       "report": "Đề nghị bổ sung hợp đồng thuê địa điểm còn hiệu lực tối thiểu 5 năm"}
      """
    Thì hồ sơ có trạng thái 5
    Và số lần yêu cầu bổ sung là 1
    Và thời hạn giải quyết đang tạm dừng
    Và công việc đang mở là "supplement_dossier" của vai trò "citizen"
    Khi thời gian trôi tới "2026-03-16 14:00"
    Và công dân hoàn thành bước "supplement_dossier" với dữ liệu:
      """
      {"supplemented_documents": ["TP3"], "supplement_note": "Bổ sung hợp đồng thuê địa điểm đến năm 2031"}
      """
    # Thời hạn 15 ngày làm việc tính lại từ đầu kể từ 14:00 thứ Hai 16/3.
    Thì hồ sơ có trạng thái 4
    Và hạn trả kết quả được tính lại từ đầu là "2026-04-06 14:00"
    Và công việc đang mở gồm:
      | bước                | vai trò          |
      | appraise_dossier    | specialist       |
      | interdept_appraisal | other_department |
    Khi thời gian trôi tới "2026-03-18 10:00"
    Và đơn vị phối hợp hoàn thành bước "interdept_appraisal" với dữ liệu:
      """
      {"interdept_opinion": "agree", "interdept_document": "102/UBND-VHXH"}
      """
    Và chuyên viên hoàn thành bước "appraise_dossier" với dữ liệu:
      """
      {"dossier_valid": true, "conditions_met": true}
      """
    Và chuyên viên hoàn thành bước "appraisal_report" với dữ liệu:
      """
      {"appraisal_result": "pass", "report": "Hồ sơ đã bổ sung đầy đủ, đủ điều kiện thành lập"}
      """
    Và thời gian trôi tới "2026-03-20 09:00"
    Và lãnh đạo phòng hoàn thành bước "head_review" với dữ liệu:
      """
      {"approved": true}
      """
    # Quá ngày hẹn ban đầu (23/3) nhưng vẫn trong thời hạn đã tính lại: không cần phiếu xin lỗi.
    Và thời gian trôi tới "2026-03-24 10:00"
    Và lãnh đạo Sở hoàn thành bước "director_decision" với dữ liệu:
      """
      {"permitted": true, "decision_number": "412/QĐ-SGDĐT", "decision_date": "2026-03-24"}
      """
    Thì hồ sơ có trạng thái 9
    Và hồ sơ được xếp loại "early"
    Khi cán bộ một cửa hoàn thành bước "return_result" với dữ liệu:
      """
      {"method": "post", "post_tracking": "EB987654321VN", "returned_to": "Trường Đại học Hồng Đức"}
      """
    Thì hồ sơ có trạng thái 10
    Và nhật ký hồ sơ có các chuyển trạng thái "1→2, 2→4, 4→5, 5→4, 4→9, 9→10"

  Kịch bản: Quá hạn bổ sung 10 ngày làm việc mà tổ chức không bổ sung thì dừng xử lý
    Cho thời điểm hiện tại là "2026-03-02 09:00"
    Khi cán bộ một cửa tiếp nhận hồ sơ trực tiếp thủ tục "language_centre_establishment" với người nộp "Công ty Cổ phần Tin học Sao Việt"
    Và cán bộ một cửa hoàn thành bước "receipt_check" với dữ liệu:
      """
      {"decision": "accept", "checked_documents": ["TP1", "TP2", "TP3"]}
      """
    Và đơn vị phối hợp hoàn thành bước "interdept_appraisal" với dữ liệu:
      """
      {"interdept_opinion": "disagree", "interdept_note": "Chưa có ý kiến về phòng cháy, chữa cháy của địa điểm"}
      """
    Và chuyên viên hoàn thành bước "appraise_dossier" với dữ liệu:
      """
      {"dossier_valid": false, "conditions_met": false,
       "appraisal_note": "Thiếu văn bản nghiệm thu phòng cháy, chữa cháy của cơ sở"}
      """
    Và thời gian trôi tới "2026-03-10 15:00"
    Và chuyên viên hoàn thành bước "appraisal_report" với dữ liệu:
      """
      {"appraisal_result": "supplement", "missing_documents": ["TP3"],
       "report": "Đề nghị bổ sung văn bản nghiệm thu phòng cháy, chữa cháy trong 10 ngày làm việc"}
      """
    Thì hồ sơ có trạng thái 5
    Và công việc đang mở là "supplement_dossier" của vai trò "citizen"
    # Hạn bổ sung working_days(10) kể từ 15:00 thứ Ba 10/3 → 15:00 thứ Ba 24/3.
    Khi thời gian trôi tới "2026-03-24 14:59"
    Và hệ thống kích hoạt các hẹn giờ đến hạn
    Thì hồ sơ có trạng thái 5
    Và công việc đang mở là "supplement_dossier" của vai trò "citizen"
    Khi thời gian trôi tới "2026-03-24 15:00"
    Và hệ thống kích hoạt các hẹn giờ đến hạn
    Thì hồ sơ có trạng thái 8
    Và hồ sơ đã kết thúc
    Và nhật ký hồ sơ có sự kiện "timer_fired"
    Và nhật ký hồ sơ có các chuyển trạng thái "1→2, 2→4, 4→5, 5→8"
