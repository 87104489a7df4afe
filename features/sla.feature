# language: vi
Tính năng: Thời hạn giải quyết theo giờ làm việc (SLA)
  Là Bộ phận một cửa và lãnh đạo Sở Giáo dục và Đào tạo
  Tôi muốn hệ thống tính hạn tiếp nhận, hạn trả kết quả, tạm dừng khi bổ sung và phiếu xin lỗi đúng quy định
  Để hồ sơ được xếp loại trước hạn, đúng hạn, quá hạn chính xác và thống kê theo Quyết định 766 đúng
  (giờ làm việc 07:30–11:30, 13:30–17:00 giờ Hà Nội; nghỉ thứ Bảy, Chủ nhật, ngày lễ và ngày nghỉ bù)

  Kịch bản: Hồ sơ trực tuyến nộp chiều thứ Sáu trước kỳ nghỉ bù Giỗ Tổ được tiếp nhận trong 8 giờ làm việc
    Cho thời điểm hiện tại là "2026-04-24 16:00"
    Khi công dân nộp hồ sơ trực tuyến thủ tục "student_transfer" với người nộp "Vũ Thị Lan"
    # 8 giờ làm việc: 24/4 16:00–17:00 (1 giờ), [25–26/4 cuối tuần, 27/4 nghỉ bù Giỗ Tổ Hùng Vương],
    # 28/4 07:30–11:30 (4 giờ) và 13:30–16:30 (3 giờ).
    Thì hạn tiếp nhận là "2026-04-28 16:30"
    Khi thời gian trôi tới "2026-04-28 15:00"
    Và hệ thống kích hoạt các hẹn giờ đến hạn
    Và cán bộ một cửa hoàn thành bước "receipt_check" với dữ liệu:
      """
      {"decision": "accept", "checked_documents": ["TP1", "TP2", "TP3", "TP4"]}
      """
    Thì hồ sơ có trạng thái 4
    Và việc tiếp nhận được xếp loại "on_time"
    Khi thời gian trôi tới "2026-04-28 17:00"
    Và hệ thống kích hoạt các hẹn giờ đến hạn
    Thì hồ sơ không bị gắn cờ "receipt_overdue"
    Và nhật ký hồ sơ không có sự kiện "sla_breach"

  Kịch bản: Hồ sơ trực tuyến nộp tối thứ Bảy, quá 8 giờ làm việc chưa xử lý thì bị gắn cờ vi phạm
    Cho thời điểm hiện tại là "2026-05-02 20:15"
    Khi công dân nộp hồ sơ trực tuyến thủ tục "national_standard_school" với người nộp "Trường THPT Nguyễn Du"
    # Nộp ngoài giờ: tính từ 07:30 thứ Hai 4/5; 4/5 đủ 7,5 giờ, 5/5 thêm 0,5 giờ → 08:00.
    Thì hạn tiếp nhận là "2026-05-05 08:00"
    Khi thời gian trôi tới "2026-05-05 08:00"
    Và hệ thống kích hoạt các hẹn giờ đến hạn
    Thì hồ sơ không bị gắn cờ "receipt_overdue"
    Và nhật ký hồ sơ không có sự kiện "sla_breach"
    Khi thời gian trôi tới "2026-05-05 08:01"
    Và hệ thống kích hoạt các hẹn giờ đến hạn
    Thì hồ sơ bị gắn cờ "receipt_overdue"
    Và nhật ký hồ sơ có sự kiện "sla_breach"
    Khi thời gian trôi tới "2026-05-05 09:30"
    Và cán bộ một cửa hoàn thành bước "receipt_check" với dữ liệu:
      """
      {"decision": "accept", "checked_documents": ["TP1", "TP2", "TP3"]}
      """
    Thì hồ sơ có trạng thái 4
    Và việc tiếp nhận được xếp loại "late"
    Và hồ sơ bị gắn cờ "receipt_overdue"

  Kịch bản: Bổ sung hồ sơ khi đang giải quyết thì tạm dừng, thời hạn tính lại từ đầu khi nộp bổ sung
    Cho thời điểm hiện tại là "2026-03-02 09:00"
    Khi cán bộ một cửa tiếp nhận hồ sơ trực tiếp thủ tục "language_centre_establishment" với người nộp "Công ty TNHH Đào tạo Minh Khôi"
    Và cán bộ một cửa hoàn thành bước "receipt_check" với dữ liệu:
      """
      {"decision": "accept", "checked_documents": ["TP1", "TP2", "TP3"]}
      """
    Thì hạn trả kết quả là "2026-03-23 09:00"
    Khi thời gian trôi tới "2026-03-11 10:00"
    Và đơn vị phối hợp hoàn thành bước "interdept_appraisal" với dữ liệu:
      """
      {"interdept_opinion": "agree", "interdept_document": "301/UBND-VHXH"}
      """
    Và chuyên viên hoàn thành bước "appraise_dossier" với dữ liệu:
      """
      {"dossier_valid": false, "conditions_met": true}
      """
    Và thời gian trôi tới "2026-03-12 10:00"
    Và chuyên viên hoàn thành bước "appraisal_report" với dữ liệu:
      """
      {"appraisal_result": "supplement", "missing_documents": ["TP2"],
       "report": "Đề án chưa có kế hoạch tuyển dụng giáo viên tin học; đề nghị bổ sung một lần"}
      """
    Thì hồ sơ có trạng thái 5
    Và số lần yêu cầu bổ sung là 1
    Và thời hạn giải quyết đang tạm dừng
    # Ngày hẹn ban đầu trôi qua khi đang chờ bổ sung: không bị tính là quá hạn.
    Khi thời gian trôi tới "2026-03-23 09:00"
    Và hệ thống kích hoạt các hẹn giờ đến hạn
    Thì hồ sơ không bị gắn cờ "overdue"
    Và nhật ký hồ sơ không có sự kiện "sla_breach"
    Khi thời gian trôi tới "2026-03-25 14:00"
    Và công dân hoàn thành bước "supplement_dossier" với dữ liệu:
      """
      {"supplemented_documents": ["TP2"], "supplement_note": "Bổ sung kế hoạch tuyển dụng 4 giáo viên tin học"}
      """
    # 15 ngày làm việc tính lại từ 14:00 thứ Tư 25/3: 26–27/3 (2), 30/3–3/4 (7), 6–10/4 (12), 13–15/4 (15).
    Thì hồ sơ có trạng thái 4
    Và hạn trả kết quả được tính lại từ đầu là "2026-04-15 14:00"
    Và công việc đang mở gồm:
      | bước                | vai trò          |
      | appraise_dossier    | specialist       |
      | interdept_appraisal | other_department |
    Khi thời gian trôi tới "2026-04-15 13:59"
    Và hệ thống kích hoạt các hẹn giờ đến hạn
    Thì hồ sơ không bị gắn cờ "overdue"
    Khi thời gian trôi tới "2026-04-15 14:01"
    Và hệ thống kích hoạt các hẹn giờ đến hạn
    Thì hồ sơ bị gắn cờ "overdue"
    Và nhật ký hồ sơ có sự kiện "sla_breach"

  Kịch bản: Hồ sơ bị yêu cầu bổ sung hai lần bị tính là trễ hạn theo Quyết định 766 dù trả trước hạn
    Cho thời điểm hiện tại là "2026-06-01 09:00"
    Khi cán bộ một cửa tiếp nhận hồ sơ trực tiếp thủ tục "language_centre_establishment" với người nộp "Công ty TNHH Tin học Thành Công"
    Và cán bộ một cửa hoàn thành bước "receipt_check" với dữ liệu:
      """
      {"decision": "accept", "checked_documents": ["TP1", "TP2", "TP3"]}
      """
    Thì hạn trả kết quả là "2026-06-22 09:00"
    Khi thời gian trôi tới "2026-06-04 10:00"
    Và đơn vị phối hợp hoàn thành bước "interdept_appraisal" với dữ liệu:
      """
      {"interdept_opinion": "agree"}
      """
    Và chuyên viên hoàn thành bước "appraise_dossier" với dữ liệu:
      """
      {"dossier_valid": false, "conditions_met": true}
      """
    Và chuyên viên hoàn thành bước "appraisal_report" với dữ liệu:
      """
      {"appraisal_result": "supplement", "missing_documents": ["TP3"], "report": "Bổ sung hợp đồng thuê địa điểm"}
      """
    Thì số lần yêu cầu bổ sung là 1
    Và hồ sơ không bị tính là trễ hạn theo Quyết định 766
    Khi thời gian trôi tới "2026-06-08 09:00"
    Và công dân hoàn thành bước "supplement_dossier" với dữ liệu:
      """
      {"supplemented_documents": ["TP3"]}
      """
    Thì hạn trả kết quả được tính lại từ đầu là "2026-06-29 09:00"
    Khi thời gian trôi tới "2026-06-10 10:00"
    Và đơn vị phối hợp hoàn thành bước "interdept_appraisal" với dữ liệu:
      """
      {"interdept_opinion": "agree"}
      """
    Và chuyên viên hoàn thành bước "appraise_dossier" với dữ liệu:
      """
      {"dossier_valid": false, "conditions_met": true}
      """
    # Thủ tục này cho phép yêu cầu bổ sung lần thứ hai chỉ khi Lãnh đạo phòng phê duyệt (repeatSupplement).
    Thì chuyên viên không được yêu cầu bổ sung lần nữa ở bước "appraisal_report" vì "chỉ khi Lãnh đạo phòng phê duyệt" với dữ liệu:
      """
      {"appraisal_result": "supplement", "missing_documents": ["TP2"], "report": "Thiếu phương án tài chính"}
      """
    Khi lãnh đạo phòng phê duyệt yêu cầu bổ sung lần thứ hai với lý do "Đề án thiếu phương án tài chính"
    Và chuyên viên hoàn thành bước "appraisal_report" với dữ liệu:
      """
      {"appraisal_result": "supplement", "missing_documents": ["TP2"],
       "report": "Đề án thiếu phương án tài chính (yêu cầu bổ sung lần thứ hai)"}
      """
    Thì hồ sơ có trạng thái 5
    Và số lần yêu cầu bổ sung là 2
    Và hồ sơ bị tính là trễ hạn theo Quyết định 766
    Và hồ sơ bị gắn cờ "repeat_supplement"
    Và lãnh đạo phòng không được phê duyệt yêu cầu bổ sung lần thứ hai vì "đã được yêu cầu bổ sung hai lần"
    Khi thời gian trôi tới "2026-06-12 14:00"
    Và công dân hoàn thành bước "supplement_dossier" với dữ liệu:
      """
      {"supplemented_documents": ["TP2"]}
      """
    # Tính lại lần nữa từ 14:00 thứ Sáu 12/6: 15–19/6 (5), 22–26/6 (10), 29/6–3/7 (15).
    Thì hạn trả kết quả được tính lại từ đầu là "2026-07-03 14:00"
    Khi thời gian trôi tới "2026-06-15 10:00"
    Và đơn vị phối hợp hoàn thành bước "interdept_appraisal" với dữ liệu:
      """
      {"interdept_opinion": "agree"}
      """
    Và chuyên viên hoàn thành bước "appraise_dossier" với dữ liệu:
      """
      {"dossier_valid": true, "conditions_met": true}
      """
    Và chuyên viên hoàn thành bước "appraisal_report" với dữ liệu:
      """
      {"appraisal_result": "pass", "report": "Đủ điều kiện sau hai lần bổ sung"}
      """
    Và lãnh đạo phòng hoàn thành bước "head_review" với dữ liệu:
      """
      {"approved": true}
      """
    Và thời gian trôi tới "2026-06-19 10:00"
    Và lãnh đạo Sở hoàn thành bước "director_decision" với dữ liệu:
      """
      {"permitted": true, "decision_number": "905/QĐ-SGDĐT", "decision_date": "2026-06-19"}
      """
    Thì hồ sơ có trạng thái 9
    Và hồ sơ được xếp loại "early"
    Nhưng hồ sơ bị tính là trễ hạn theo Quyết định 766
    Và nhật ký hồ sơ có các chuyển trạng thái "1→2, 2→4, 4→5, 5→4, 4→5, 5→4, 4→9"

  Kịch bản: Hồ sơ quá hạn bị chặn cho đến khi có phiếu xin lỗi hẹn lại, sau đó vẫn xếp loại quá hạn
    Cho thời điểm hiện tại là "2026-04-22 09:00"
    Khi cán bộ một cửa tiếp nhận hồ sơ trực tiếp thủ tục "student_transfer" với người nộp "Đặng Quốc Bảo"
    Và cán bộ một cửa hoàn thành bước "receipt_check" với dữ liệu:
      """
      {"decision": "accept", "checked_documents": ["TP1", "TP2", "TP3", "TP4"]}
      """
    Thì hạn trả kết quả là "2026-05-04 11:30"
    Khi thời gian trôi tới "2026-04-23 09:00"
    Và chuyên viên hoàn thành bước "check_dossier" với dữ liệu:
      """
      {"from_other_province": false, "in_transfer_period": true, "requested_school": "Trường THPT Hùng Vương"}
      """
    Thì công việc đang mở là "school_decision" của vai trò "other_department"
    Khi thời gian trôi tới "2026-05-04 14:00"
    Và hệ thống kích hoạt các hẹn giờ đến hạn
    Thì hồ sơ bị gắn cờ "overdue"
    Và nhật ký hồ sơ có sự kiện "sla_breach"
    Nhưng trường tiếp nhận không được tiếp tục xử lý khi chưa có phiếu xin lỗi
    Khi lãnh đạo Sở ban hành phiếu xin lỗi hẹn lại ngày "2026-05-06 16:00" với lý do "Hội đồng tuyển sinh của trường tiếp nhận chưa họp xét" do lỗi của "Trường THPT Hùng Vương"
    Thì phiếu xin lỗi ghi ngày hẹn cũ "2026-05-04 11:30" và ngày hẹn mới "2026-05-06 16:00"
    Và hạn trả kết quả là "2026-05-06 16:00"
    Nhưng lãnh đạo Sở không được ban hành thêm phiếu xin lỗi hẹn lại ngày "2026-05-08 16:00"
    Khi thời gian trôi tới "2026-05-05 10:00"
    Và trường tiếp nhận hoàn thành bước "school_decision" với dữ liệu:
      """
      {"school_accepted": true, "receiving_school": "Trường THPT Hùng Vương"}
      """
    Thì hồ sơ có trạng thái 9
    Và hồ sơ được xếp loại "late"
    Khi cán bộ một cửa hoàn thành bước "return_result" với dữ liệu:
      """
      {"method": "in_person", "returned_to": "Đặng Quốc Bảo"}
      """
    Thì hồ sơ có trạng thái 10
    Và hồ sơ được xếp loại "late"
    Và nhật ký hồ sơ có các chuyển trạng thái "1→2, 2→4, 4→9, 9→10"
    Và chuỗi băm của nhật ký hồ sơ toàn vẹn
